//! Who is calling: taken only from the authorizer's verified claims, never from plain headers.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org_id: String,
    pub user_id: String,
    pub role: Role,
}

impl Caller {
    /// Owners and admins change things; members only read.
    pub fn require_admin(&self) -> Result<(), DomainError> {
        match self.role {
            Role::Owner | Role::Admin => Ok(()),
            Role::Member => Err(DomainError::Forbidden(
                "only an owner or admin of the organisation can do this".into(),
            )),
        }
    }
}
