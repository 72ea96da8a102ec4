//! What the local stack takes from its own environment, so it runs against one's own OAuth apps
//! and endpoints: every setting the functions read, and every app-secret field from the variable
//! of the same name in upper case (`google_client_id` ← `GOOGLE_CLIENT_ID`).
//!
//! Precedence, lowest first: template.yaml's values, this environment, the command-line options
//! (`--fake-google` sets Google's endpoints and client, `--fake-whisper` the transcription
//! endpoint and key, `--import-quota`, `--allow-url-host`). An option is the more specific
//! request, so it wins; the environment value it replaces is reported, never silently dropped.
//! Secret values are never printed: only their names.

use std::collections::BTreeMap;

use local_aws::Template;
use recorder_domain::secret::Secret;

/// Settings the functions read from their environment (template.yaml's `Environment` sections,
/// and `shared/connectors/src/settings.rs`, `shared/domain/src/settings.rs`,
/// `shared/fetch/src/fetch.rs`, `shared/processing/src/transcribe.rs`). One set in the stack's
/// environment reaches every function.
pub const SETTINGS: &[&str] = &[
    // Where OAuth redirects and provider webhooks come back to (default: the gateway itself).
    "PUBLIC_BASE_URL",
    "GOOGLE_AUTH_URL",
    "GOOGLE_TOKEN_URL",
    "GOOGLE_API_BASE_URL",
    "GOOGLE_RATE_LIMIT_PER_SEC",
    "GOOGLE_EXPORT_LIMIT_BYTES",
    "MAX_FILE_SIZE",
    "MAX_BATCH_SIZE",
    "ALLOWED_FILE_TYPES",
    "MULTIPART_THRESHOLD",
    "MULTIPART_PART_SIZE",
    "MONTHLY_IMPORT_QUOTA",
    "URL_IMPORT_TIMEOUT",
    "URL_IMPORT_MAX_SIZE",
    "URL_IMPORT_ALLOW_HOSTS",
    "USER_AGENT",
    "TRANSCRIPTION_BASE_URL",
    "TRANSCRIPTION_MODEL",
    "TRANSCRIPTION_API_KEY_SECRET",
    "TRANSCRIPTION_MAX_BYTES",
    "TRANSCRIPTION_TIMEOUT",
    "SECRETS_CACHE_TTL_SECS",
];

/// Template variables the stack sets itself (names of the resources it created, process-wide
/// logging): never taken from the environment.
pub const WIRED: &[&str] = &[
    "TABLE_NAME",
    "BUCKET_NAME",
    "SYNC_JOBS_QUEUE_URL",
    "DOCUMENTS_QUEUE_URL",
    "DOCUMENT_EVENTS_QUEUE_URL",
    "WEBHOOK_EVENTS_QUEUE_URL",
    // Mirrors DocumentsQueue's redrive setting, which the stack creates from the template.
    "DOCUMENTS_MAX_RECEIVE_COUNT",
    // The dead-letter queue the stack creates; its records' source ARN.
    "DOCUMENTS_DLQ_ARN",
    "SECRETS_PREFIX",
    "APP_SECRET_ID",
    "RUST_LOG",
    "LOG_FORMAT",
];

/// The stack's own environment (empty by default, so tests see only what they set). Its
/// `Debug` shows names only.
#[derive(Clone, Default)]
pub struct HostEnv(BTreeMap<String, String>);

impl HostEnv {
    /// The process environment, as the `local-stack` binary sees it.
    pub fn from_process() -> Self {
        HostEnv(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        HostEnv(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A set, non-empty value (`FOO= cmd` leaves FOO unset, as the functions read it).
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl std::fmt::Debug for HostEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostEnv({} variables)", self.0.len())
    }
}

/// The settings of [`SETTINGS`] that `get` has.
pub fn settings_from(get: &dyn Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
    SETTINGS
        .iter()
        .filter_map(|name| get(name).map(|v| (name.to_string(), v)))
        .collect()
}

/// The app-secret `fields` that `get` has, each read from its name in upper case.
pub fn secret_fields_from(
    fields: &[String],
    get: &dyn Fn(&str) -> Option<String>,
) -> BTreeMap<String, Secret> {
    fields
        .iter()
        .filter_map(|field| get(&field.to_uppercase()).map(|v| (field.clone(), Secret::new(v))))
        .collect()
}

/// The fields of the app secret, as template.yaml documents them (its `SecretString`).
pub fn app_secret_fields(template: &Template) -> Result<Vec<String>, String> {
    let text = template.root["Resources"]["AppSecret"]["Properties"]["SecretString"]
        .as_str()
        .ok_or("template.yaml's AppSecret has no SecretString")?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("template.yaml's AppSecret SecretString is not JSON: {e}"))?;
    let fields = value
        .as_object()
        .ok_or("template.yaml's AppSecret SecretString is not a JSON object")?;
    Ok(fields.keys().cloned().collect())
}

/// Where each value came from, by name only: printed at start-up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sources {
    /// Settings taken from the environment (and not replaced by an option).
    pub settings: Vec<String>,
    /// App-secret fields taken from the environment.
    pub secret_fields: Vec<String>,
    /// App-secret fields an option or the stack filled (`--fake-google`, a generated key).
    pub secret_fields_set: Vec<(String, &'static str)>,
    /// Environment variables an option replaced, with the option.
    pub replaced: Vec<(String, &'static str)>,
}

/// Lays the options' values over the environment's (see the module comment): the settings every
/// function gets on top of the template's, and where each came from.
pub fn overlay(
    from_env: BTreeMap<String, String>,
    from_options: Vec<(String, String, &'static str)>,
    sources: &mut Sources,
) -> BTreeMap<String, String> {
    let taken: Vec<String> = from_env.keys().cloned().collect();
    let mut out = from_env;
    for (name, value, option) in from_options {
        if taken.contains(&name) && !sources.replaced.iter().any(|(r, _)| *r == name) {
            sources.replaced.push((name.clone(), option));
        }
        out.insert(name, value);
    }
    sources.settings = taken
        .into_iter()
        .filter(|k| !sources.replaced.iter().any(|(r, _)| r == k))
        .collect();
    out
}

/// The app secret's value: every documented field (empty when nobody set it), the environment's
/// values, then the options' (a fake's client), then generated keys for what must not be empty.
pub fn app_secret(
    fields: &[String],
    from_env: BTreeMap<String, Secret>,
    from_options: Vec<(&'static str, Secret, &'static str)>,
    generated: &[(&'static str, Secret)],
    sources: &mut Sources,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| (f.clone(), serde_json::Value::from("")))
        .collect();
    sources.secret_fields = from_env.keys().cloned().collect();
    for (field, value) in from_env {
        out.insert(field, value.expose().into());
    }
    for (field, value, option) in from_options {
        if let Some(at) = sources.secret_fields.iter().position(|f| f == field) {
            sources.secret_fields.remove(at);
            sources.replaced.push((field.to_uppercase(), option));
        }
        sources.secret_fields_set.push((field.to_string(), option));
        out.insert(field.to_string(), value.expose().into());
    }
    for (field, value) in generated {
        if out
            .get(*field)
            .and_then(|v| v.as_str())
            .is_none_or(str::is_empty)
        {
            sources
                .secret_fields_set
                .push((field.to_string(), "generated"));
            out.insert(field.to_string(), value.expose().into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let env = HostEnv::from_pairs(pairs.iter().copied());
        move |k| env.get(k)
    }

    fn template() -> Template {
        Template::load(&local_aws::workspace_root().join("template.yaml")).unwrap()
    }

    #[test]
    fn provider_settings_are_taken_from_the_environment_and_resource_names_are_not() {
        let get = lookup(&[
            ("GOOGLE_AUTH_URL", "https://auth.example.test/o/oauth2/auth"),
            ("PUBLIC_BASE_URL", "https://abc.ngrok.example"),
            ("URL_IMPORT_ALLOW_HOSTS", "127.0.0.1:8000"),
            ("TRANSCRIPTION_BASE_URL", ""),
            ("TABLE_NAME", "someone-elses-table"),
            ("HOME", "/root"),
        ]);
        let got = settings_from(&get);
        assert_eq!(
            got.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "GOOGLE_AUTH_URL",
                "PUBLIC_BASE_URL",
                "URL_IMPORT_ALLOW_HOSTS"
            ]
        );
        assert_eq!(got["PUBLIC_BASE_URL"], "https://abc.ngrok.example");
    }

    #[test]
    fn every_app_secret_field_comes_from_its_upper_case_variable() {
        let fields = app_secret_fields(&template()).unwrap();
        for expected in [
            "google_client_id",
            "google_client_secret",
            "drive_webhook_token",
            "zoom_webhook_secret",
            "notion_verification_token",
            "whisper_api_key",
        ] {
            assert!(
                fields.iter().any(|f| f == expected),
                "{expected}: {fields:?}"
            );
        }
        let env: Vec<(String, String)> = fields
            .iter()
            .map(|f| (f.to_uppercase(), format!("value of {f}")))
            .collect();
        let env = HostEnv::from_pairs(env);
        let got = secret_fields_from(&fields, &|k| env.get(k));
        assert_eq!(got.len(), fields.len());
        assert_eq!(
            got["zoom_webhook_secret"].expose(),
            "value of zoom_webhook_secret"
        );
    }

    #[test]
    fn every_variable_of_the_template_is_a_setting_or_wired_by_the_stack() {
        let t = template();
        let mut missing = Vec::new();
        for (id, function) in t.resources_of_type("AWS::Serverless::Function") {
            for name in t.function_environment(function).keys() {
                if !SETTINGS.contains(&name.as_str()) && !WIRED.contains(&name.as_str()) {
                    missing.push(format!("{id}: {name}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add these to SETTINGS or WIRED in infra/local-stack/src/host_env.rs: {missing:?}"
        );
    }

    #[test]
    fn an_option_wins_over_the_environment_and_the_replaced_name_is_reported() {
        let mut sources = Sources::default();
        let env = settings_from(&lookup(&[
            ("GOOGLE_AUTH_URL", "https://accounts.example.test/auth"),
            ("GOOGLE_RATE_LIMIT_PER_SEC", "5"),
        ]));
        let out = overlay(
            env,
            vec![(
                "GOOGLE_AUTH_URL".into(),
                "http://127.0.0.1:4444/o/oauth2/v2/auth".into(),
                "--fake-google",
            )],
            &mut sources,
        );
        assert_eq!(
            out["GOOGLE_AUTH_URL"],
            "http://127.0.0.1:4444/o/oauth2/v2/auth"
        );
        assert_eq!(out["GOOGLE_RATE_LIMIT_PER_SEC"], "5");
        assert_eq!(sources.settings, ["GOOGLE_RATE_LIMIT_PER_SEC"]);
        assert_eq!(
            sources.replaced,
            [("GOOGLE_AUTH_URL".to_string(), "--fake-google")]
        );
    }

    #[test]
    fn the_app_secret_holds_every_field_and_generates_only_an_unset_webhook_key() {
        let fields = app_secret_fields(&template()).unwrap();
        let mut sources = Sources::default();
        let env = secret_fields_from(
            &fields,
            &lookup(&[
                ("GOOGLE_CLIENT_ID", "mine.apps.googleusercontent.com"),
                ("DRIVE_WEBHOOK_TOKEN", "my-webhook-key"),
            ]),
        );
        let secret = app_secret(
            &fields,
            env,
            vec![],
            &[("drive_webhook_token", Secret::new("random"))],
            &mut sources,
        );
        assert_eq!(secret.len(), fields.len());
        assert_eq!(
            secret["google_client_id"],
            "mine.apps.googleusercontent.com"
        );
        assert_eq!(secret["drive_webhook_token"], "my-webhook-key");
        assert_eq!(secret["zoom_client_secret"], "");
        assert_eq!(
            sources.secret_fields,
            ["drive_webhook_token", "google_client_id"]
        );
        assert!(sources.secret_fields_set.is_empty());
    }
}
