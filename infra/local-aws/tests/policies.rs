//! Least privilege, read off template.yaml: each function may read only the secrets it uses. The
//! webhook receiver and the doc-processor never see a connector's OAuth tokens; no function holds
//! the whole `recorder-connectors/<stage>/*` prefix (the app secret and every token at once).

use std::collections::BTreeMap;

use serde_yaml::Value;

const TEMPLATE: &str = include_str!("../../../template.yaml");
const TOKENS: &str = "secret:recorder-connectors/${Stage}/connectors/*";

/// A policy resource as text: `!Sub "…"` gives its string, `!Ref X` gives `Ref:X`.
fn resource_text(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().flat_map(resource_text).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Tagged(t) => match (t.tag.to_string().as_str(), &t.value) {
            ("!Ref", Value::String(name)) => vec![format!("Ref:{name}")],
            (_, Value::String(s)) => vec![s.clone()],
            _ => vec![format!("{v:?}")],
        },
        other => vec![format!("{other:?}")],
    }
}

/// Secrets Manager resources each function's policies name.
fn secret_resources() -> BTreeMap<String, Vec<String>> {
    let template: Value = serde_yaml::from_str(TEMPLATE).unwrap();
    let mut out = BTreeMap::new();
    for (name, res) in template["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let mut resources = Vec::new();
        for policy in res["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for st in policy["Statement"].as_sequence().into_iter().flatten() {
                let actions = match &st["Action"] {
                    Value::Sequence(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
                    Value::String(a) => vec![a.as_str()],
                    _ => vec![],
                };
                if actions.iter().any(|a| a.starts_with("secretsmanager:")) {
                    resources.extend(resource_text(&st["Resource"]));
                }
            }
        }
        out.insert(name.as_str().unwrap().to_string(), resources);
    }
    out
}

#[test]
fn functions_that_never_use_a_connectors_tokens_cannot_read_them() {
    let secrets = secret_resources();
    for f in ["WebhooksFunction", "DocProcessorFunction"] {
        assert_eq!(
            secrets[f],
            vec!["Ref:AppSecret".to_string()],
            "{f} may read only the app secret"
        );
    }
}

#[test]
fn no_function_holds_every_secret_of_the_stage() {
    for (f, resources) in secret_resources() {
        for r in &resources {
            assert!(
                !r.ends_with("secret:recorder-connectors/${Stage}/*"),
                "{f} holds the whole prefix: {r}"
            );
        }
    }
}

#[test]
fn the_functions_that_use_tokens_can_reach_them() {
    let secrets = secret_resources();
    for f in [
        "ApiFunction",
        "OAuthFunction",
        "SchedulerFunction",
        "SyncWorkerFunction",
    ] {
        assert!(
            secrets[f].iter().any(|r| r.ends_with(TOKENS)),
            "{f}: {:?}",
            secrets[f]
        );
    }
}
