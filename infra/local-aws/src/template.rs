//! Reading template.yaml: the short-form intrinsic tags (!Ref, !GetAtt, !Sub, …) are resolved
//! against the resources created locally.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("could not read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template.yaml is not valid YAML: {0}")]
    Parse(#[from] serde_yaml::Error),
    #[error("template.yaml: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone)]
pub struct Template {
    pub root: Value,
}

/// What names resolve to: `Ref` values and `GetAtt` attributes.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub refs: BTreeMap<String, String>,
    pub attrs: BTreeMap<String, String>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        Ok(Template {
            root: serde_yaml::from_str(text)?,
        })
    }

    /// Logical id → resource, in template order.
    pub fn resources(&self) -> Vec<(String, &Value)> {
        match self.root.get("Resources").and_then(Value::as_mapping) {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v)))
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn resources_of_type(&self, ty: &str) -> Vec<(String, &Value)> {
        self.resources()
            .into_iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
            .collect()
    }

    /// Parameter defaults, overridden by `overrides`.
    pub fn parameters(&self, overrides: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.root.get("Parameters").and_then(Value::as_mapping) {
            for (k, v) in m {
                if let (Some(k), Some(d)) = (k.as_str(), v.get("Default")) {
                    out.insert(k.to_string(), scalar(d).unwrap_or_default());
                }
            }
        }
        out.extend(overrides.clone());
        out
    }

    /// The global environment of functions merged with the function's own.
    pub fn function_environment(&self, function: &Value) -> BTreeMap<String, Value> {
        let mut env = BTreeMap::new();
        let global = self
            .root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|f| f.get("Environment"))
            .and_then(|e| e.get("Variables"));
        let own = function
            .get("Properties")
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"));
        for vars in [global, own].into_iter().flatten() {
            if let Some(m) = vars.as_mapping() {
                for (k, v) in m {
                    if let Some(k) = k.as_str() {
                        env.insert(k.to_string(), v.clone());
                    }
                }
            }
        }
        env
    }
}

pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Names {
    /// Resolves a value that may be a plain scalar or an intrinsic (short or long form).
    pub fn resolve(&self, v: &Value) -> Result<String, TemplateError> {
        if let Some(s) = scalar(v) {
            return Ok(s);
        }
        let (tag, arg) = match v {
            Value::Tagged(t) => (
                t.tag.to_string().trim_start_matches('!').to_string(),
                t.value.clone(),
            ),
            Value::Mapping(m) if m.len() == 1 => {
                let (k, a) = m
                    .iter()
                    .next()
                    .ok_or_else(|| TemplateError::Invalid("empty intrinsic".into()))?;
                let k = k.as_str().unwrap_or_default();
                (k.strip_prefix("Fn::").unwrap_or(k).to_string(), a.clone())
            }
            other => return Err(TemplateError::Invalid(format!("cannot resolve {other:?}"))),
        };
        match tag.as_str() {
            "Ref" => {
                let name = scalar(&arg).unwrap_or_default();
                self.refs
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| TemplateError::Invalid(format!("!Ref {name}: unknown name")))
            }
            "GetAtt" => {
                let name = match &arg {
                    Value::Sequence(parts) => parts
                        .iter()
                        .filter_map(scalar)
                        .collect::<Vec<_>>()
                        .join("."),
                    other => scalar(other).unwrap_or_default(),
                };
                self.attrs.get(&name).cloned().ok_or_else(|| {
                    TemplateError::Invalid(format!("!GetAtt {name}: unknown attribute"))
                })
            }
            "Sub" => {
                let text = scalar(&arg).ok_or_else(|| {
                    TemplateError::Invalid(
                        "!Sub with variables map is not supported locally".into(),
                    )
                })?;
                self.substitute(&text)
            }
            other => Err(TemplateError::Invalid(format!(
                "!{other} is not supported by the local stack"
            ))),
        }
    }

    fn substitute(&self, text: &str) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| TemplateError::Invalid(format!("unclosed ${{ in {text}")))?
                + start;
            let name = &rest[start + 2..end];
            let value = if name.contains('.') && !name.starts_with("AWS::") {
                self.attrs.get(name)
            } else {
                self.refs.get(name)
            };
            out.push_str(
                value.ok_or_else(|| TemplateError::Invalid(format!("${{{name}}} is unknown")))?,
            );
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}
