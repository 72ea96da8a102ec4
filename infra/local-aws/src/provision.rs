//! Creates the template's tables, queues, secrets and buckets on a local endpoint and returns what
//! each function needs to run locally: its resolved environment and its event sources.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_yaml::Value;

use crate::template::{Names, Template, TemplateError, scalar};

pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("could not create {resource}: {message}")]
    Create { resource: String, message: String },
}

fn create_err(resource: &str, e: impl std::fmt::Debug) -> ProvisionError {
    ProvisionError::Create {
        resource: resource.to_string(),
        message: format!("{e:?}"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub method: String,
    pub path: String,
    /// True when the route opts out of the JWT authorizer (`Auth: {Authorizer: NONE}`).
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSource {
    pub queue_url: String,
    /// The queue's ARN as the template resolves it (the `eventSourceARN` of its records).
    pub queue_arn: String,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
}

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    pub binary: String,
    pub env: BTreeMap<String, String>,
    pub routes: Vec<HttpRoute>,
    /// One per SQS event (the doc-processor also drains its dead-letter queue).
    pub queues: Vec<QueueSource>,
    /// Schedule expressions (`rate(5 minutes)`).
    pub schedules: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    pub names: Names,
    pub functions: Vec<FunctionSpec>,
}

fn prop<'a>(r: &'a Value, name: &str) -> Option<&'a Value> {
    r.get("Properties").and_then(|p| p.get(name))
}

fn seq(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_sequence).cloned().unwrap_or_default()
}

fn key_schema(v: Option<&Value>) -> Vec<KeySchemaElement> {
    seq(v)
        .iter()
        .filter_map(|k| {
            let name = k.get("AttributeName").and_then(scalar)?;
            let ty = if k.get("KeyType").and_then(scalar).as_deref() == Some("RANGE") {
                KeyType::Range
            } else {
                KeyType::Hash
            };
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(ty)
                .build()
                .ok()
        })
        .collect()
}

/// Creates every resource and resolves every function. `params` override parameter defaults.
pub async fn provision(
    sdk: &SdkConfig,
    template: &Template,
    stack_name: &str,
    params: &BTreeMap<String, String>,
) -> Result<Provisioned, ProvisionError> {
    let mut names = Names::default();
    names.refs.extend(template.parameters(params));
    for (k, v) in [
        ("AWS::StackName", stack_name),
        ("AWS::AccountId", ACCOUNT_ID),
        ("AWS::Region", REGION),
        ("AWS::Partition", "aws"),
        ("AWS::URLSuffix", "amazonaws.com"),
    ] {
        names.refs.insert(k.into(), v.into());
    }

    create_tables(sdk, template, stack_name, &mut names).await?;
    create_queues(sdk, template, stack_name, &mut names).await?;
    create_secrets(sdk, template, &mut names).await?;
    create_buckets(sdk, template, &mut names).await?;
    for (id, _) in template.resources_of_type("AWS::Serverless::HttpApi") {
        names.refs.insert(id, "local".into());
    }
    let functions = template
        .resources_of_type("AWS::Serverless::Function")
        .into_iter()
        .map(|(id, f)| function_spec(template, &names, id, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Provisioned { names, functions })
}

async fn create_tables(
    sdk: &SdkConfig,
    t: &Template,
    stack: &str,
    names: &mut Names,
) -> Result<(), ProvisionError> {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    for (id, r) in t.resources_of_type("AWS::DynamoDB::Table") {
        let name = match prop(r, "TableName") {
            Some(v) => names.resolve(v)?,
            None => format!("{stack}-{id}"),
        };
        let defs = seq(prop(r, "AttributeDefinitions"))
            .iter()
            .filter_map(|a| {
                let ty = match a.get("AttributeType").and_then(scalar).as_deref() {
                    Some("N") => ScalarAttributeType::N,
                    Some("B") => ScalarAttributeType::B,
                    _ => ScalarAttributeType::S,
                };
                AttributeDefinition::builder()
                    .attribute_name(a.get("AttributeName").and_then(scalar)?)
                    .attribute_type(ty)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        let gsis = seq(prop(r, "GlobalSecondaryIndexes"))
            .iter()
            .filter_map(|g| {
                GlobalSecondaryIndex::builder()
                    .index_name(g.get("IndexName").and_then(scalar)?)
                    .set_key_schema(Some(key_schema(g.get("KeySchema"))))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        let out = client
            .create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(defs))
            .set_key_schema(Some(key_schema(prop(r, "KeySchema"))))
            .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis))
            .send()
            .await
            .map_err(|e| create_err(&id, e))?;
        if let Some(ttl) = prop(r, "TimeToLiveSpecification")
            .and_then(|t| t.get("AttributeName"))
            .and_then(scalar)
        {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name(ttl)
                .enabled(true)
                .build()
                .map_err(|e| create_err(&id, e))?;
            client
                .update_time_to_live()
                .table_name(&name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| create_err(&id, e))?;
        }
        let arn = out
            .table_description
            .and_then(|d| d.table_arn)
            .unwrap_or_else(|| format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"));
        names.attrs.insert(format!("{id}.Arn"), arn);
        names.refs.insert(id, name);
    }
    Ok(())
}

async fn create_queues(
    sdk: &SdkConfig,
    t: &Template,
    stack: &str,
    names: &mut Names,
) -> Result<(), ProvisionError> {
    let client = aws_sdk_sqs::Client::new(sdk);
    let queues = t.resources_of_type("AWS::SQS::Queue");
    for (id, r) in &queues {
        let fifo = prop(r, "FifoQueue").and_then(scalar).as_deref() == Some("true");
        let name = format!("{stack}-{id}{}", if fifo { ".fifo" } else { "" });
        let mut req = client.create_queue().queue_name(&name);
        for (attr, key) in [
            (QueueAttributeName::FifoQueue, "FifoQueue"),
            (
                QueueAttributeName::ContentBasedDeduplication,
                "ContentBasedDeduplication",
            ),
            (QueueAttributeName::VisibilityTimeout, "VisibilityTimeout"),
            (
                QueueAttributeName::MessageRetentionPeriod,
                "MessageRetentionPeriod",
            ),
        ] {
            if let Some(v) = prop(r, key).and_then(scalar) {
                req = req.attributes(attr, v);
            }
        }
        let url = req
            .send()
            .await
            .map_err(|e| create_err(id, e))?
            .queue_url
            .unwrap_or_default();
        let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}");
        names.attrs.insert(format!("{id}.Arn"), arn);
        names.attrs.insert(format!("{id}.QueueName"), name);
        names.attrs.insert(format!("{id}.QueueUrl"), url.clone());
        names.refs.insert(id.clone(), url);
    }
    // Redrive second: dead-letter queues must exist first.
    for (id, r) in &queues {
        let Some(policy) = prop(r, "RedrivePolicy") else {
            continue;
        };
        let target = policy
            .get("deadLetterTargetArn")
            .map(|v| names.resolve(v))
            .transpose()?
            .unwrap_or_default();
        let max: u32 = policy
            .get("maxReceiveCount")
            .and_then(scalar)
            .and_then(|m| m.parse().ok())
            .unwrap_or(5);
        let json =
            serde_json::json!({"deadLetterTargetArn": target, "maxReceiveCount": max}).to_string();
        client
            .set_queue_attributes()
            .queue_url(&names.refs[id])
            .attributes(QueueAttributeName::RedrivePolicy, json)
            .send()
            .await
            .map_err(|e| create_err(id, e))?;
    }
    Ok(())
}

async fn create_secrets(
    sdk: &SdkConfig,
    t: &Template,
    names: &mut Names,
) -> Result<(), ProvisionError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    for (id, r) in t.resources_of_type("AWS::SecretsManager::Secret") {
        let name = prop(r, "Name")
            .map(|v| names.resolve(v))
            .transpose()?
            .unwrap_or_else(|| id.clone());
        let value = prop(r, "SecretString")
            .map(|v| names.resolve(v))
            .transpose()?
            .unwrap_or_else(|| "{}".into());
        let out = client
            .create_secret()
            .name(&name)
            .secret_string(value)
            .send()
            .await
            .map_err(|e| create_err(&id, e))?;
        // Ref of a secret is its ARN; the SDK accepts it wherever a secret id goes.
        names.refs.insert(id, out.arn.unwrap_or(name));
    }
    Ok(())
}

async fn create_buckets(
    sdk: &SdkConfig,
    t: &Template,
    names: &mut Names,
) -> Result<(), ProvisionError> {
    let builder = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true);
    let client = aws_sdk_s3::Client::from_conf(builder.build());
    for (id, r) in t.resources_of_type("AWS::S3::Bucket") {
        let name = prop(r, "BucketName")
            .map(|v| names.resolve(v))
            .transpose()?
            .unwrap_or_else(|| id.to_lowercase());
        client
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .map_err(|e| create_err(&id, e))?;
        let queue_configs =
            seq(prop(r, "NotificationConfiguration").and_then(|n| n.get("QueueConfigurations")));
        let mut configs = Vec::new();
        for q in &queue_configs {
            let arn = q
                .get("Queue")
                .map(|v| names.resolve(v))
                .transpose()?
                .unwrap_or_default();
            let event = q
                .get("Event")
                .and_then(scalar)
                .unwrap_or_else(|| "s3:ObjectCreated:*".into());
            configs.push(
                QueueConfiguration::builder()
                    .queue_arn(arn)
                    .events(Event::from(event.as_str()))
                    .set_filter(key_filter(q))
                    .build()
                    .map_err(|e| create_err(&id, e))?,
            );
        }
        if !configs.is_empty() {
            let conf = NotificationConfiguration::builder()
                .set_queue_configurations(Some(configs))
                .build();
            client
                .put_bucket_notification_configuration()
                .bucket(&name)
                .notification_configuration(conf)
                .send()
                .await
                .map_err(|e| create_err(&id, e))?;
        }
        names
            .attrs
            .insert(format!("{id}.Arn"), format!("arn:aws:s3:::{name}"));
        names.refs.insert(id, name);
    }
    Ok(())
}

/// A notification's `Filter: {S3Key: {Rules: [{Name, Value}]}}` (prefix / suffix), as S3 applies
/// it: only matching keys are announced.
fn key_filter(q: &Value) -> Option<NotificationConfigurationFilter> {
    let rules: Vec<FilterRule> = seq(q
        .get("Filter")
        .and_then(|f| f.get("S3Key"))
        .and_then(|k| k.get("Rules")))
    .iter()
    .filter_map(|r| {
        let name = r.get("Name").and_then(scalar)?.to_ascii_lowercase();
        let value = r.get("Value").and_then(scalar)?;
        Some(
            FilterRule::builder()
                .name(FilterRuleName::from(name.as_str()))
                .value(value)
                .build(),
        )
    })
    .collect();
    (!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    })
}

fn function_spec(
    t: &Template,
    names: &Names,
    id: String,
    f: &Value,
) -> Result<FunctionSpec, ProvisionError> {
    let binary = f
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(scalar)
        .ok_or_else(|| {
            TemplateError::Invalid(format!("{id} has no Metadata.BuildProperties.Binary"))
        })?;
    let mut env = BTreeMap::new();
    for (k, v) in t.function_environment(f) {
        env.insert(k, names.resolve(&v)?);
    }
    // Lambda tells a function its memory setting; budgets derived from it (the doc-processor's
    // decompression budget) then match the deployed function.
    let memory = prop(f, "MemorySize").or_else(|| {
        t.root
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|g| g.get("MemorySize"))
    });
    if let Some(mb) = memory.and_then(scalar) {
        env.insert("AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(), mb);
    }
    let mut spec = FunctionSpec {
        logical_id: id.clone(),
        binary,
        env,
        routes: Vec::new(),
        queues: Vec::new(),
        schedules: Vec::new(),
    };
    if let Some(events) = prop(f, "Events").and_then(Value::as_mapping) {
        for (_, e) in events {
            let props = e.get("Properties");
            let get = |k: &str| props.and_then(|p| p.get(k));
            match e.get("Type").and_then(scalar).as_deref() {
                Some("HttpApi") => spec.routes.push(HttpRoute {
                    method: get("Method")
                        .and_then(scalar)
                        .unwrap_or_default()
                        .to_uppercase(),
                    path: get("Path").and_then(scalar).unwrap_or_default(),
                    public: get("Auth")
                        .and_then(|a| a.get("Authorizer"))
                        .and_then(scalar)
                        .as_deref()
                        == Some("NONE"),
                }),
                Some("SQS") => {
                    let arn = get("Queue")
                        .map(|v| names.resolve(v))
                        .transpose()?
                        .unwrap_or_default();
                    let queue_url = names
                        .attrs
                        .iter()
                        .find(|(k, v)| k.ends_with(".Arn") && **v == arn)
                        .and_then(|(k, _)| names.refs.get(k.trim_end_matches(".Arn")))
                        .cloned()
                        .ok_or_else(|| {
                            TemplateError::Invalid(format!(
                                "{id}: SQS event on unknown queue {arn}"
                            ))
                        })?;
                    spec.queues.push(QueueSource {
                        queue_url,
                        queue_arn: arn,
                        batch_size: get("BatchSize")
                            .and_then(scalar)
                            .and_then(|b| b.parse().ok())
                            .unwrap_or(10),
                        report_batch_item_failures: seq(get("FunctionResponseTypes"))
                            .iter()
                            .any(|v| v.as_str() == Some("ReportBatchItemFailures")),
                    });
                }
                Some("Schedule") | Some("ScheduleV2") => {
                    let expr = get("ScheduleExpression")
                        .or_else(|| get("Schedule"))
                        .and_then(scalar)
                        .unwrap_or_default();
                    spec.schedules.push(expr);
                }
                _ => {}
            }
        }
    }
    Ok(spec)
}
