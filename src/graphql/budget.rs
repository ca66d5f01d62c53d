//! One complexity budget for all the operations of a call: each operation's complexity, as
//! validation computes it, is spent from the budget its call carries, so a batch of operations
//! each under the limit cannot together do more than one operation at the limit.

use super::document_limits::DocumentLimits;
use crate::access::policy::Role;
use crate::config::GraphqlSettings;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What one call may carry: its operations' documents, how many, and their complexity together.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Bounds on each operation's document.
    pub documents: DocumentLimits,
    /// Most operations of one batch.
    pub max_operations: usize,
    /// The budget of a call whose role sets no complexity limit.
    pub max_complexity: usize,
}

impl CallLimits {
    /// The limits of `settings`.
    pub fn new(settings: &GraphqlSettings) -> CallLimits {
        CallLimits {
            documents: DocumentLimits::from(settings),
            max_operations: settings.max_batch_operations,
            max_complexity: settings.max_complexity,
        }
    }

    /// The document limits of a principal in `role`: its depth limit, else the settings'.
    pub fn documents_for(&self, role: &Role) -> DocumentLimits {
        DocumentLimits {
            max_depth: role
                .limits
                .max_depth
                .map_or(self.documents.max_depth, |depth| depth as u64),
            ..self.documents
        }
    }

    /// A fresh budget for one call of a principal in `role`.
    pub fn budget(&self, role: &Role) -> Arc<Budget> {
        Budget::new(role.limits.max_complexity.unwrap_or(self.max_complexity))
    }
}

/// The complexity the operations of one call may still spend.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    left: AtomicUsize,
}

impl Budget {
    /// A budget of `limit`, shared by the operations of one call.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            left: AtomicUsize::new(limit),
        })
    }

    /// Spends `cost`, or says that the call's operations together exceed the limit.
    pub fn spend(&self, cost: usize) -> Result<(), String> {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(cost)
            })
            .map(drop)
            .map_err(|_| {
                format!(
                    "the operations of this request together exceed the complexity limit of {}",
                    self.limit
                )
            })
    }
}

/// The schema extension that charges each validated operation to its call's [`Budget`].
pub struct Budgeted;

impl ExtensionFactory for Budgeted {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Budgeted)
    }
}

#[async_trait::async_trait]
impl Extension for Budgeted {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(budget) = ctx.data_opt::<Arc<Budget>>() {
            budget
                .spend(result.complexity)
                .map_err(|message| vec![ServerError::new(message, None)])?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_share_one_budget() {
        let budget = Budget::new(100);
        assert!(budget.spend(60).is_ok());
        assert!(budget.spend(40).is_ok());
        let refused = budget.spend(1).unwrap_err();
        assert!(refused.contains("complexity limit of 100"), "{refused}");
    }
}
