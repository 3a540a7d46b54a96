//! Read views of one number: "view assignments" (seed 004) and its history.

use numberpool_domain::Action;
use numberpool_store::NumberLookup;

use super::{AccountRef, AssignmentsView, path_up_to};
use crate::service::{Actor, Permission, Result, Service};

impl Service {
    /// "View assignments" (seed 004) for a number in the actor's scope: its business, the
    /// units down to where it sits (those of them in the actor's scope), and its
    /// business-registration fields and assignees.
    pub async fn number_assignments(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<AssignmentsView> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        let n = self.scoped_number(&mut r, actor, lookup).await?;
        // The path from the business down to the holder, each level named only when the
        // caller may see it (R-SEC-1): a unit's admin sees its own unit and below, not the
        // business or the units above it.
        let mut levels: Vec<Option<AccountRef>> = Vec::new();
        if let Some(customer) = n.customer_id {
            // A number with a customer is held by it or one of its units.
            let mut path = path_up_to(&mut r, n.holder_id, customer)
                .await?
                .unwrap_or_else(|| vec![n.holder_id]);
            path.reverse();
            for id in path {
                let level = if r.in_scope(actor.account, id).await? {
                    r.get_account(id).await?.map(|a| AccountRef {
                        id: a.id,
                        name: a.name,
                    })
                } else {
                    None
                };
                levels.push(level);
            }
        }
        let level = |i: usize| levels.get(i).cloned().flatten();
        let (business, business_unit, program) = (level(0), level(1), level(2));
        let units: Vec<AccountRef> = levels.iter().skip(1).flatten().cloned().collect();
        Ok(AssignmentsView {
            id: n.id,
            phone_number: n.phone_number.as_str().to_string(),
            business,
            business_unit,
            program,
            units,
            display_name: n.display_name,
            call_purpose: n.call_purpose,
            program_duration: n.program_duration,
            assignees: n.assignees,
        })
    }

    /// The number's history: its audit events, oldest first.
    pub async fn number_history(
        &self,
        actor: &Actor,
        lookup: &NumberLookup,
    ) -> Result<Vec<numberpool_store::AuditEvent>> {
        actor.require(Permission::PhoneRead)?;
        let mut r = self.store.read().await?;
        let n = self.scoped_number(&mut r, actor, lookup).await?;
        let mut events = r.number_history(n.id).await?;
        if actor.account == n.owner_id || actor.account == n.uploaded_by {
            return Ok(events);
        }
        // Anyone else sees the number's life since it was allocated into their branch: what
        // earlier holders did with it (their assignees, their billing) is theirs (R-SEC-1).
        let mut branch = r.ancestors(actor.account).await?;
        branch.push(actor.account);
        let branch: Vec<String> = branch.iter().map(ToString::to_string).collect();
        let start = events.iter().rposition(|e| {
            e.action == Action::NumberAllocate
                && e.after
                    .as_ref()
                    .and_then(|a| a.get("holder_id"))
                    .and_then(|h| h.as_str())
                    .is_some_and(|h| branch.iter().any(|b| b == h))
        });
        Ok(match start {
            Some(i) => {
                let mut mine = events.split_off(i);
                // The state before the allocation into the viewer's branch was someone else's.
                if let Some(first) = mine.first_mut() {
                    first.before = None;
                }
                mine
            }
            None => vec![],
        })
    }
}
