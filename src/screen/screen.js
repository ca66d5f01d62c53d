// The command-centre screen 指挥中心大屏: picks a grid, then shows its live counters, overdue
// events and event feed over GraphQL subscriptions (graphql-transport-ws at /graphql/ws).
// Everything from the server is inserted as text (textContent), never as markup.
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  const TOKEN_KEY = 'gridhub.screen.token';
  const token = takeToken();
  const FEED_LIMIT = 50;
  const INITIAL_EVENTS = 20;
  const ACK_TIMEOUT_MS = 10000;
  const MAX_BACKOFF_MS = 30000;
  const GRID_RETRY_MS = 15000;
  const OVERDUE_LIMIT = 100;
  // Overdue events read over HTTP before the subscription answers; within every role's page size.
  const INITIAL_OVERDUE = 50;

  const STAT_LABELS = {
    population: ['人口', 'Population'],
    households: ['户数', 'Households'],
    openEvents: ['待办事件', 'Open events'],
    overdueEvents: ['超期事件', 'Overdue events'],
  };
  const DEFAULT_STATS = Object.keys(STAT_LABELS);
  const LEVELS = {
    DISTRICT: '区 District',
    STREET: '街道 Street',
    COMMUNITY: '社区 Community',
    GRID: '网格 Grid',
    MICRO_GRID: '微网格 Micro-grid',
  };
  const CATEGORIES = {
    SAFETY_HAZARD: '安全隐患',
    DISPUTE: '矛盾纠纷',
    SANITATION: '环境卫生',
    CITY_MANAGEMENT: '城市管理',
    PROPERTY_COMPLAINT: '物业投诉',
    PETITION: '信访',
    SERVICE_REQUEST: '便民服务',
    EPIDEMIC_CONTROL: '疫情防控',
  };
  const PRIORITIES = { LOW: '一般 Low', NORMAL: '普通 Normal', HIGH: '重要 High', URGENT: '紧急 Urgent' };
  const STATUSES = {
    REPORTED: '已上报 Reported',
    ACCEPTED: '已受理 Accepted',
    REJECTED: '已退回 Rejected',
    ESCALATED: '已上报上级 Escalated',
    DISPATCHED: '已吹哨 Dispatched',
    ACKNOWLEDGED: '已报到 Acknowledged',
    RESOLVED: '已处置 Resolved',
    CLOSED: '已办结 Closed',
  };
  const ACTIONS = {
    REPORT: '上报 Report',
    ACCEPT: '受理 Accept',
    REJECT: '退回 Reject',
    ESCALATE: '上报上级 Escalate',
    DISPATCH: '吹哨派单 Dispatch',
    ACKNOWLEDGE: '报到 Acknowledge',
    RESOLVE: '处置 Resolve',
    CLOSE: '办结 Close',
    REOPEN: '重新打开 Reopen',
  };
  const CLOSE_REASONS = {
    1006: '网络中断 network lost',
    4400: '请求无效 bad request',
    4401: '未授权 unauthorized',
    4403: '无权限 forbidden',
    4408: '握手超时 no acknowledgement',
    4429: '请求过多 too many requests',
  };

  const EVENT_FIELDS = `fragment ScreenEvent on Event {
    id title category priority status reportedAt resolveBy grid { code name }
  }`;

  const $ = (id) => document.getElementById(id);

  /** A new element with a class and text content (never markup). */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function label(table, value) {
    return value ? table[value] || value : '—';
  }

  function formatTime(date) {
    return date.toLocaleString('zh-CN', { hour12: false });
  }

  function formatDuration(ms) {
    const minutes = Math.max(0, Math.floor(ms / 60000));
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    if (days > 0) return `${days}天${hours}小时`;
    if (hours > 0) return `${hours}小时${minutes % 60}分`;
    return `${minutes}分钟`;
  }

  // ---- errors and connection state ----

  const errors = new Map();

  function describeErrors(list) {
    return (list || [])
      .map((e) => {
        const code = e && e.extensions && e.extensions.code;
        return code ? `${e.message} (${code})` : String(e && e.message ? e.message : e);
      })
      .join('; ');
  }

  function renderErrors() {
    const box = $('errors');
    box.replaceChildren();
    for (const [source, message] of errors) {
      box.appendChild(el('p', 'error', `${source}: ${message}`));
    }
    box.hidden = errors.size === 0;
  }

  function setError(source, message) {
    if (message) errors.set(source, message);
    else errors.delete(source);
    renderErrors();
  }

  function setConnection(state, text) {
    if (state !== 'connected') delete $('stats').dataset.live;
    const badge = $('connection');
    badge.dataset.state = state;
    $('connection-text').textContent = text;
  }

  // ---- credentials ----

  // The token comes from the page's fragment (#token=…), which browsers never send to a
  // server, and is kept in this tab's session storage; the fragment is then cleared so that
  // the address bar, history and bookmarks do not hold it. Without one the page runs without
  // credentials, as a hub without authentication allows.
  function takeToken() {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const given = fragment.get('token');
    if (given) {
      window.sessionStorage.setItem(TOKEN_KEY, given);
      fragment.delete('token');
      const rest = fragment.toString();
      const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : '');
      window.history.replaceState(null, '', url);
    }
    return window.sessionStorage.getItem(TOKEN_KEY) || '';
  }

  // Asks for a token once a request was refused for want of one, then starts over with it.
  function askForToken() {
    const given = window.prompt('This hub requires a token for the screen:');
    if (!given) return;
    window.sessionStorage.setItem(TOKEN_KEY, given.trim());
    window.location.reload();
  }

  // ---- HTTP queries ----

  function authHeaders() {
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  async function query(text, variables) {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: Object.assign({ 'Content-Type': 'application/json' }, authHeaders()),
      body: JSON.stringify({ query: text, variables: variables || {} }),
    });
    let body;
    try {
      body = await response.json();
    } catch (_) {
      throw new Error(`HTTP ${response.status}`);
    }
    if (response.status === 401) askForToken();
    if (body.errors && body.errors.length) throw new Error(describeErrors(body.errors));
    return body.data;
  }

  // ---- graphql-transport-ws client ----

  /** A graphql-transport-ws connection that reconnects with backoff and resubscribes. */
  class SubscriptionClient {
    constructor(url, initPayload, hooks) {
      this.url = url;
      this.initPayload = initPayload;
      this.hooks = hooks;
      this.subscriptions = new Map();
      this.nextId = 1;
      this.attempts = 0;
      this.socket = null;
      this.acked = false;
    }

    /** Starts `query` with `variables`; `sink.next(data)` and `sink.error(message)` get results. */
    subscribe(queryText, variables, sink) {
      const id = String(this.nextId++);
      const payload = { query: queryText, variables };
      this.subscriptions.set(id, { payload, sink });
      if (this.acked) this.send({ id, type: 'subscribe', payload });
    }

    start() {
      this.hooks.state('connecting', '连接中 Connecting');
      const socket = new WebSocket(this.url, 'graphql-transport-ws');
      this.socket = socket;
      socket.onopen = () => {
        this.send({ type: 'connection_init', payload: this.initPayload });
        this.ackTimer = setTimeout(() => socket.close(4408, 'no connection_ack'), ACK_TIMEOUT_MS);
      };
      socket.onmessage = (message) => this.receive(message.data);
      socket.onclose = (event) => this.closed(event);
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify(message));
      }
    }

    receive(raw) {
      let message;
      try {
        message = JSON.parse(raw);
      } catch (_) {
        this.socket.close(4400, 'unreadable message');
        return;
      }
      const entry = message.id !== undefined ? this.subscriptions.get(message.id) : undefined;
      switch (message.type) {
        case 'connection_ack':
          this.acknowledged();
          break;
        case 'ping':
          this.send(message.payload ? { type: 'pong', payload: message.payload } : { type: 'pong' });
          break;
        case 'next':
          if (entry) this.deliver(entry.sink, message.payload || {});
          break;
        case 'error':
          if (entry) entry.sink.error(describeErrors(message.payload));
          this.subscriptions.delete(message.id);
          break;
        case 'complete':
          this.subscriptions.delete(message.id);
          break;
        default:
          break;
      }
    }

    deliver(sink, result) {
      if (result.errors && result.errors.length) sink.error(describeErrors(result.errors));
      if (result.data) sink.next(result.data);
    }

    acknowledged() {
      clearTimeout(this.ackTimer);
      this.acked = true;
      this.attempts = 0;
      this.hooks.state('connected', '已连接 Connected');
      for (const [id, { payload }] of this.subscriptions) {
        this.send({ id, type: 'subscribe', payload });
      }
      this.hooks.connected();
    }

    closed(event) {
      clearTimeout(this.ackTimer);
      this.acked = false;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
      this.attempts += 1;
      const reason = event.reason || CLOSE_REASONS[event.code] || '';
      const seconds = Math.round(delay / 1000);
      this.hooks.state('reconnecting', `已断开 Disconnected — ${seconds}s 后重连 reconnecting`);
      this.hooks.failed(`连接关闭 connection closed (${event.code}${reason ? ': ' + reason : ''})`);
      setTimeout(() => this.start(), delay);
    }
  }

  // ---- counters ----

  async function statFields() {
    const text = `{ __type(name: "GridStats") { fields {
      name description args { type { kind } } type { kind name ofType { kind name } }
    } } }`;
    try {
      const data = await query(text);
      const fields = (data.__type && data.__type.fields) || [];
      const numeric = fields.filter((f) => {
        const type = f.type.kind === 'NON_NULL' ? f.type.ofType : f.type;
        const required = f.args.some((a) => a.type.kind === 'NON_NULL');
        return type.kind === 'SCALAR' && ['Int', 'Float'].includes(type.name) && !required;
      });
      const names = numeric.filter((f) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(f.name));
      const known = DEFAULT_STATS.filter((n) => names.some((f) => f.name === n));
      const extra = names.filter((f) => !STAT_LABELS[f.name]);
      return known.map((name) => ({ name })).concat(extra);
    } catch (_) {
      return DEFAULT_STATS.map((name) => ({ name }));
    }
  }

  function statTile(field) {
    const tile = el('div', 'stat');
    tile.dataset.stat = field.name;
    if (/overdue/i.test(field.name)) tile.classList.add('overdue');
    const names = STAT_LABELS[field.name];
    const caption = el('span', 'label');
    if (names) {
      caption.appendChild(el('span', 'zh', names[0]));
      caption.appendChild(document.createTextNode(' '));
      caption.appendChild(el('span', 'en', names[1]));
    } else {
      caption.textContent = (field.description || field.name).split(/[.。(（]/)[0];
      caption.title = field.description || field.name;
    }
    tile.appendChild(caption);
    tile.appendChild(el('span', 'value', '—'));
    return tile;
  }

  function showStats(stats) {
    for (const tile of $('stats').querySelectorAll('.stat')) {
      const value = stats[tile.dataset.stat];
      if (value === undefined) continue;
      const shown = value === null ? '—' : Number(value).toLocaleString('zh-CN');
      const target = tile.querySelector('.value');
      if (target.textContent !== shown) {
        target.textContent = shown;
        tile.classList.remove('changed');
        void tile.offsetWidth;
        tile.classList.add('changed');
      }
    }
    $('stats-updated').textContent = `更新于 Updated ${formatTime(new Date())}`;
  }

  async function loadStats(gridCode, fields) {
    const text = `query ScreenCounters($code: String!) {
      grid(code: $code) { stats { ${fields.map((f) => f.name).join(' ')} } }
    }`;
    try {
      const data = await query(text, { code: gridCode });
      if (data.grid) showStats(data.grid.stats);
    } catch (error) {
      setError('统计 Counters', error.message);
    }
  }

  // ---- overdue list ----

  let overdue = [];

  function showOverdue(events) {
    overdue = events || [];
    const now = Date.now();
    const rows = overdue.map((event) => {
      const row = el('tr');
      row.dataset.eventId = event.id;
      row.appendChild(el('td', 'title', event.title));
      row.appendChild(el('td', '', label(CATEGORIES, event.category)));
      row.appendChild(el('td', `priority-${event.priority}`, label(PRIORITIES, event.priority)));
      row.appendChild(el('td', '', label(STATUSES, event.status)));
      row.appendChild(el('td', '', event.grid ? event.grid.name : '—'));
      row.appendChild(el('td', 'late', formatDuration(now - Date.parse(event.resolveBy))));
      return row;
    });
    $('overdue').replaceChildren(...rows);
    $('overdue-count').textContent = overdue.length >= OVERDUE_LIMIT ? `≥${OVERDUE_LIMIT}` : String(overdue.length);
    $('overdue-empty').hidden = overdue.length > 0;
  }

  async function loadOverdue(gridCode) {
    const text = `query ScreenOverdueNow($code: String!) {
      events(filter: { gridCode: $code, overdue: true }, first: ${INITIAL_OVERDUE}) { nodes { ...ScreenEvent } }
    } ${EVENT_FIELDS}`;
    try {
      const data = await query(text, { code: gridCode });
      const events = data.events.nodes.slice();
      events.sort((a, b) => Date.parse(a.resolveBy) - Date.parse(b.resolveBy));
      showOverdue(events);
    } catch (error) {
      setError('超期 Overdue', error.message);
    }
  }

  // ---- event feed ----

  let epoch = 0;

  function feedEntry(item) {
    const entry = el('li');
    entry.dataset.eventId = item.eventId;
    entry.dataset.epoch = String(epoch);
    const head = el('div', 'head');
    head.appendChild(el('span', 'title', item.title));
    head.appendChild(el('time', 'time', formatTime(item.time)));
    entry.appendChild(head);
    const meta = el('div', 'meta');
    if (item.action !== undefined) {
      meta.appendChild(el('span', 'tag action', item.action ? label(ACTIONS, item.action) : '超期 Overdue'));
    }
    if (item.category) meta.appendChild(el('span', 'tag category', label(CATEGORIES, item.category)));
    if (item.priority) {
      meta.appendChild(el('span', `tag priority priority-${item.priority}`, label(PRIORITIES, item.priority)));
    }
    meta.appendChild(el('span', 'tag status', label(STATUSES, item.status)));
    if (item.grid) meta.appendChild(el('span', 'tag grid', `${item.grid.name} ${item.grid.code}`));
    entry.appendChild(meta);
    return entry;
  }

  function fromEvent(event) {
    return {
      eventId: event.id,
      title: event.title,
      category: event.category,
      priority: event.priority,
      status: event.status,
      grid: event.grid,
      time: new Date(event.reportedAt),
    };
  }

  function trimFeed() {
    const feed = $('feed');
    while (feed.children.length > FEED_LIMIT) feed.lastElementChild.remove();
    $('feed-empty').hidden = feed.children.length > 0;
  }

  function removeEntries(eventId) {
    for (const entry of $('feed').querySelectorAll('li')) {
      if (entry.dataset.eventId === eventId) entry.remove();
    }
  }

  function showChange(change) {
    const event = change.event;
    const eventId = event ? event.id : String(change.eventId);
    removeEntries(eventId);
    const item = event
      ? fromEvent(event)
      : { eventId, title: `事件 Event ${change.eventId}`, grid: null };
    item.status = change.status;
    item.action = change.action;
    item.time = new Date();
    const entry = feedEntry(item);
    entry.classList.add('fresh');
    $('feed').prepend(entry);
    trimFeed();
  }

  /** Replaces what the feed showed before the latest (re)connection with the latest events. */
  function showLatest(events, loadedEpoch) {
    if (loadedEpoch !== epoch) return;
    const feed = $('feed');
    for (const entry of feed.querySelectorAll('li')) {
      if (entry.dataset.epoch !== String(epoch) || entry.dataset.initial) entry.remove();
    }
    const live = new Set([...feed.querySelectorAll('li')].map((e) => e.dataset.eventId));
    for (const event of events) {
      if (live.has(event.id)) continue;
      const entry = feedEntry(fromEvent(event));
      entry.dataset.initial = 'true';
      feed.appendChild(entry);
    }
    trimFeed();
  }

  async function loadLatest(gridCode) {
    epoch += 1;
    const loadedEpoch = epoch;
    const text = `query ScreenLatest($code: String!, $first: Int!) {
      events(filter: { gridCode: $code }, first: $first) { nodes { ...ScreenEvent } }
    } ${EVENT_FIELDS}`;
    try {
      const data = await query(text, { code: gridCode, first: INITIAL_EVENTS });
      showLatest(data.events.nodes, loadedEpoch);
      setError('事件 Events', null);
    } catch (error) {
      setError('事件 Events', error.message);
    }
  }

  // ---- grid choice ----

  async function chooseGrid() {
    const code = params.get('grid');
    if (code) {
      const data = await query('query ScreenGrid($code: String!) { grid(code: $code) { code name level } }', { code });
      if (!data.grid) throw new Error(`没有网格 no grid ${code}`);
      return data.grid;
    }
    const data = await query('query ScreenTopGrid { grids(first: 1) { nodes { code name level } } }');
    const top = data.grids.nodes[0];
    if (!top) throw new Error('没有可见的网格 no grid visible');
    return top;
  }

  function showGrid(grid) {
    $('grid-title').textContent = `${grid.name} · ${grid.code} · ${label(LEVELS, grid.level)}`;
    $('grid-input').value = grid.code;
    document.title = `${grid.name} · 网格指挥中心`;
  }

  function bindForm() {
    $('grid-input').value = params.get('grid') || '';
    $('grid-form').addEventListener('submit', (submit) => {
      submit.preventDefault();
      const code = $('grid-input').value.trim();
      const next = new URLSearchParams(window.location.search);
      if (code) next.set('grid', code);
      else next.delete('grid');
      window.location.search = next.toString();
    });
  }

  function tickClock() {
    $('clock').textContent = formatTime(new Date());
  }

  // ---- wiring ----

  /** Subscribes to the feed first, so that it is listening once the first counters arrive. */
  function subscribeAll(client, grid, fields) {
    const feedQuery = `subscription ScreenFeed($code: String) {
      eventChanged(gridCode: $code) { eventId status action event { ...ScreenEvent } }
    } ${EVENT_FIELDS}`;
    client.subscribe(feedQuery, { code: grid.code }, {
      next: (data) => { showChange(data.eventChanged); setError('动态 Feed', null); },
      error: (message) => setError('动态 Feed', message),
    });
    const overdueQuery = `subscription ScreenOverdue($code: String) {
      overdueEvents(gridCode: $code) { ...ScreenEvent }
    } ${EVENT_FIELDS}`;
    client.subscribe(overdueQuery, { code: grid.code }, {
      next: (data) => { showOverdue(data.overdueEvents); setError('超期 Overdue', null); },
      error: (message) => setError('超期 Overdue', message),
    });
    const statsQuery = `subscription ScreenStats($code: String!) {
      stats(gridCode: $code) { ${fields.map((f) => f.name).join(' ')} }
    }`;
    client.subscribe(statsQuery, { code: grid.code }, {
      next: (data) => {
        showStats(data.stats);
        $('stats').dataset.live = 'true';
        setError('统计 Counters', null);
      },
      error: (message) => setError('统计 Counters', message),
    });
  }

  function main() {
    bindForm();
    tickClock();
    setInterval(tickClock, 1000);
    setInterval(() => showOverdue(overdue), 60000);
    $('feed-empty').hidden = false;
    start();
  }

  /** Finds the grid, then starts the screen; tries again later when the hub cannot say. */
  async function start() {
    let grid;
    let fields;
    try {
      [grid, fields] = await Promise.all([chooseGrid(), statFields()]);
    } catch (error) {
      setConnection('failed', `未连接 Not connected — ${GRID_RETRY_MS / 1000}s 后重试 retrying`);
      setError('网格 Grid', error.message);
      setTimeout(start, GRID_RETRY_MS);
      return;
    }
    setError('网格 Grid', null);
    showGrid(grid);
    $('stats').replaceChildren(...fields.map(statTile));
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const client = new SubscriptionClient(`${scheme}://${window.location.host}/graphql/ws`, authHeaders(), {
      state: setConnection,
      connected: () => { setError('连接 Connection', null); loadLatest(grid.code); },
      failed: (message) => setError('连接 Connection', message),
    });
    subscribeAll(client, grid, fields);
    loadStats(grid.code, fields);
    loadOverdue(grid.code);
    loadLatest(grid.code);
    client.start();
  }

  main();
})();
