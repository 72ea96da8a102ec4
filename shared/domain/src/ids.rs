//! Identifiers. ULIDs sort by creation time, so a key that ends in one lists oldest-first
//! (or newest-first when read backwards) with no extra timestamp attribute.

use std::sync::Mutex;

static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

/// A new lowercase ULID, strictly increasing within this process (so events written in the same
/// millisecond still list in the order they happened).
pub fn new_id() -> String {
    let mut generator = GENERATOR.lock().unwrap_or_else(|e| e.into_inner());
    let id = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    id.to_string().to_ascii_lowercase()
}

/// True for the ids this system hands out and for the ids of orgs and users that come from the
/// identity provider: short, printable, no separators that would break a composite key.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_unique_and_valid() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(is_valid_id(&a), "{a}");
        assert_eq!(a.len(), 26);
        assert!(b > a, "ids increase within a process");
    }

    #[test]
    fn ids_with_key_separators_are_refused() {
        assert!(!is_valid_id("org#1"));
        assert!(!is_valid_id("a/b"));
        assert!(!is_valid_id(""));
        assert!(is_valid_id("org_acme-1"));
    }
}
