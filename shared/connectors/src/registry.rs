//! The providers this build has. Adding one is one line in [`providers`] (and its folder).

use std::sync::Arc;

use recorder_domain::connector::ConnectorType;
use recorder_domain::ports::AppSecrets;
use recorder_domain::provider::{Provider, Providers};
use recorder_domain::push::Push;

use crate::settings::{CommonSettings, Env, SettingsError};

/// Every provider of this build, each with its settings read from `env`: one line each.
fn providers(
    env: &Env,
    secrets: &Arc<dyn AppSecrets>,
) -> Result<Vec<Arc<dyn Provider>>, SettingsError> {
    Ok(vec![crate::google::drive::provider(env, secrets.clone())?])
}

pub struct Registry {
    public_base_url: String,
    providers: Vec<(ConnectorType, Arc<dyn Provider>)>,
    pushes: Vec<Arc<dyn Push>>,
}

impl Registry {
    /// A Lambda's registry: settings from its environment, checked once (a bad value fails the
    /// cold start with its name).
    pub fn from_env(secrets: Arc<dyn AppSecrets>) -> Result<Arc<dyn Providers>, SettingsError> {
        Ok(Arc::new(Self::from_lookup(
            &|k| std::env::var(k).ok(),
            secrets,
        )?))
    }

    /// The registry with settings from any lookup (the local stack passes each function's
    /// template environment).
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        secrets: Arc<dyn AppSecrets>,
    ) -> Result<Registry, SettingsError> {
        let env = Env::new(get);
        let common = CommonSettings::read(&env)?;
        Ok(Registry::of(
            common.public_base_url,
            providers(&env, &secrets)?,
        ))
    }

    /// A registry of exactly these providers (tests plug their own in here).
    pub fn of(public_base_url: impl Into<String>, providers: Vec<Arc<dyn Provider>>) -> Registry {
        let pushes = providers.iter().filter_map(|p| p.push()).collect();
        Registry {
            public_base_url: public_base_url.into(),
            providers: providers
                .into_iter()
                .map(|p| (p.info().connector_type, p))
                .collect(),
            pushes,
        }
    }
}

impl Providers for Registry {
    fn provider(&self, t: ConnectorType) -> Option<Arc<dyn Provider>> {
        self.providers
            .iter()
            .find(|(registered, _)| *registered == t)
            .map(|(_, p)| p.clone())
    }

    fn push_by_key(&self, key: &str) -> Option<Arc<dyn Push>> {
        self.pushes.iter().find(|p| p.key() == key).cloned()
    }

    fn public_base_url(&self) -> &str {
        &self.public_base_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recorder_domain::memory::MemorySecrets;

    #[test]
    fn every_registered_type_and_push_key_is_unique() {
        let secrets: Arc<dyn AppSecrets> = Arc::new(MemorySecrets::default());
        let registry = Registry::from_lookup(&|_| None, secrets).unwrap();
        let mut types: Vec<_> = registry.providers.iter().map(|(t, _)| *t).collect();
        let mut keys: Vec<_> = registry.pushes.iter().map(|p| p.key()).collect();
        let (n_types, n_keys) = (types.len(), keys.len());
        types.dedup();
        keys.sort();
        keys.dedup();
        assert_eq!((types.len(), keys.len()), (n_types, n_keys));
        assert!(registry.provider(ConnectorType::GoogleDrive).is_some());
        assert!(registry.push_by_key("drive").is_some());
    }

    #[test]
    fn a_bad_provider_setting_fails_with_its_name() {
        let secrets: Arc<dyn AppSecrets> = Arc::new(MemorySecrets::default());
        let get = |k: &str| (k == "GOOGLE_RATE_LIMIT_PER_SEC").then(|| "lots".to_string());
        let err = Registry::from_lookup(&get, secrets).err().unwrap();
        assert_eq!(err.name, "GOOGLE_RATE_LIMIT_PER_SEC");
    }
}
