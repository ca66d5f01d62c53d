//! Turns off Nagle's algorithm on pooled PostgreSQL connections.
//!
//! sqlx 0.9.0 opens its TCP sockets without `TCP_NODELAY`, so a message written right after
//! another one (the end of a `COPY`, the next statement of a pipeline) can wait for the server's
//! delayed ACK, about 40 ms on Linux. sqlx gives no handle to its socket, so each new connection
//! asks the server which client port it sees and sets the option on this process's socket bound
//! to that port. Connections over Unix sockets (no client port) are left as they are.

use sea_orm::sqlx::{self, PgConnection};
use std::os::fd::BorrowedFd;

/// Sets `TCP_NODELAY` on the socket of `conn`, when it is a TCP socket of this process.
pub async fn apply(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let port: Option<i32> = sqlx::query_scalar("SELECT inet_client_port()")
        .fetch_one(conn)
        .await?;
    let Some(port) = port.and_then(|p| u16::try_from(p).ok()) else {
        return Ok(());
    };
    if !set_on_local_port(port) {
        tracing::debug!(
            port,
            "no socket of this process has the PostgreSQL client port"
        );
    }
    Ok(())
}

/// Sets `TCP_NODELAY` on the connected socket of this process whose local port is `port`;
/// whether one was found.
fn set_on_local_port(port: u16) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    for fd in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        // SAFETY: the descriptor is only borrowed for the calls below; if it was closed since it
        // was listed, they fail with EBADF and nothing else happens.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let local = socket.local_addr().ok().and_then(|a| a.as_socket());
        if local.is_some_and(|a| a.port() == port) && socket.peer_addr().is_ok() {
            return socket.set_tcp_nodelay(true).is_ok();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn finds_a_connected_socket_by_its_local_port() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        assert!(!client.nodelay().unwrap());
        assert!(set_on_local_port(client.local_addr().unwrap().port()));
        assert!(client.nodelay().unwrap());
    }

    #[test]
    fn a_listening_socket_is_not_taken_for_a_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!set_on_local_port(listener.local_addr().unwrap().port()));
    }
}
