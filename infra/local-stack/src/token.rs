//! Local JWTs: the gateway signs tokens for trying the API and checks them on every non-public
//! route, standing in for API Gateway's JWT authorizer. Never part of a deployment.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Value, json};

pub const ISSUER: &str = "http://127.0.0.1:3000/_local";
pub const AUDIENCE: &str = "recorder-connectors";
/// A fixed, public key: these tokens only ever open the local stack.
const KEY: &[u8] = b"recorder-connectors-local-only-signing-key";

pub fn issue(org_id: &str, user_id: &str, role: &str, now: i64) -> String {
    let claims = json!({"sub": user_id, "org_id": org_id, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600});
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(KEY),
    )
    .unwrap_or_default()
}

/// The claims of a valid token as strings (as API Gateway passes them), or None.
pub fn verify(bearer: &str) -> Option<HashMap<String, String>> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[AUDIENCE]);
    let data = decode::<HashMap<String, Value>>(bearer, &DecodingKey::from_secret(KEY), &v).ok()?;
    Some(
        data.claims
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let now = chrono::Utc::now().timestamp();
        let t = issue("org_a", "u1", "admin", now);
        let claims = verify(&t).unwrap();
        assert_eq!(claims["org_id"], "org_a");
        assert_eq!(claims["sub"], "u1");
        let mut tampered = t.clone();
        tampered.pop();
        assert!(verify(&tampered).is_none());
        assert!(
            verify(&issue("org_a", "u1", "admin", now - 7200)).is_none(),
            "expired"
        );
    }
}
