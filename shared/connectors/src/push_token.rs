//! Per-subscription secrets derived from one app secret: nothing more to store, and a token seen
//! on one subscription is refused on every other. For providers that echo a secret we choose
//! (Drive's channel token, Graph's clientState).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256(key, connector id and subscription id), lower-case hex.
pub fn subscription_token(key: &str, connector_id: &str, subscription_id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    // Length-prefixed, so no other (connector, subscription) pair gives the same input.
    for part in [connector_id, subscription_id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder_domain::secret::same_secret;

    #[test]
    fn tokens_are_per_connector_and_subscription_and_compare_in_constant_time() {
        let a = subscription_token("k", "c1", "ch1");
        assert_eq!(a.len(), 64);
        assert_ne!(a, subscription_token("k", "c2", "ch1"));
        assert_ne!(a, subscription_token("k", "c1", "ch2"));
        assert_ne!(a, subscription_token("other", "c1", "ch1"));
        assert_ne!(
            subscription_token("k", "c1c", "h1"),
            subscription_token("k", "c1", "ch1")
        );
        assert!(same_secret(&a, &subscription_token("k", "c1", "ch1")));
        assert!(!same_secret(&a, &a[..63]));
    }
}
