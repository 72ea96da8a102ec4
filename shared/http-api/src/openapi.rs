//! The OpenAPI 3.1 document, generated from the route tables and the views' schemas so it cannot
//! drift from the code.

use serde_json::{Map, Value, json};

use crate::route_table::{API_ROUTES, Access, OAUTH_ROUTES, Route, WEBHOOK_ROUTES};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn operation(r: &Route) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(r.summary));
    op.insert("operationId".into(), json!(format!("{:?}", r.op)));
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if r.paged {
        params.push(json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}));
        params.push(json!({"name": "cursor", "in": "query", "description": "next_cursor of the previous page", "schema": {"type": "string"}}));
    }
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = r.body {
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}}),
        );
    }
    let mut responses = Map::new();
    let schema = match r.response {
        Some(name) => json!({"$ref": format!("#/components/schemas/{name}")}),
        None => json!({"type": "object"}),
    };
    responses.insert(
        r.success.to_string(),
        json!({"description": "Success", "content": {"application/json": {"schema": schema}}}),
    );
    if r.access != Access::Public {
        responses.insert(
            "401".into(),
            error_response("Missing or invalid token claims"),
        );
        responses.insert(
            "404".into(),
            error_response("Not found (also for another org's ids)"),
        );
    }
    if r.access == Access::Admin {
        responses.insert(
            "403".into(),
            error_response("Only owners and admins may do this"),
        );
    }
    if r.body.is_some() {
        responses.insert("400".into(), error_response("Malformed JSON"));
        responses.insert("413".into(), error_response("Body too large"));
        responses.insert(
            "422".into(),
            error_response("A field is invalid; the message names it"),
        );
    }
    op.insert("responses".into(), Value::Object(responses));
    if r.access == Access::Public {
        op.insert("security".into(), json!([]));
    }
    Value::Object(op)
}

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in API_ROUTES {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = operation(r);
    }
    for r in OAUTH_ROUTES.iter().chain(WEBHOOK_ROUTES) {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        let mut op =
            json!({"summary": r.summary, "responses": {"default": {"description": "See summary"}}});
        if r.public {
            op["security"] = json!([]);
        }
        entry[r.method.to_lowercase()] = op;
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "recorder-connectors API", "version": env!("CARGO_PKG_VERSION")},
        "security": [{"jwt": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Claims used: sub (user id), org_id, role (owner, admin or member)"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}}, "required": ["code", "message"]}}},
                "NewConnector": {"type": "object", "required": ["connector_type", "name"], "additionalProperties": false, "properties": {
                    "connector_type": {"type": "string", "enum": ["file_upload", "url_import"]},
                    "name": {"type": "string", "maxLength": 100},
                    "description": {"type": "string", "maxLength": 1000},
                    "settings": {"type": "object"},
                    "filters": {"$ref": "#/components/schemas/Filters"},
                    "sync_frequency": {"type": "string", "enum": ["manual", "hourly", "daily", "weekly"]}}},
                "ConnectorPatch": {"type": "object", "additionalProperties": false, "properties": {
                    "name": {"type": "string", "maxLength": 100},
                    "description": {"type": "string", "maxLength": 1000},
                    "settings": {"type": "object"},
                    "filters": {"$ref": "#/components/schemas/Filters"},
                    "sync_frequency": {"type": "string", "enum": ["manual", "hourly", "daily", "weekly"]}}},
                "UploadRequest": {"type": "object", "required": ["name", "size", "content_type"], "additionalProperties": false, "properties": {
                    "name": {"type": "string"}, "size": {"type": "integer", "minimum": 1}, "content_type": {"type": "string"},
                    "connector_id": {"type": "string", "description": "a file_upload connector to file the document under"}}},
                "BatchRequest": {"type": "object", "required": ["files"], "additionalProperties": false, "properties": {
                    "name": {"type": "string"}, "connector_id": {"type": "string"},
                    "files": {"type": "array", "items": {"type": "object", "required": ["name", "size", "content_type"], "properties": {
                        "name": {"type": "string"}, "size": {"type": "integer"}, "content_type": {"type": "string"}}}}}},
                "CompleteUpload": {"type": "object", "required": ["upload_id", "parts"], "properties": {"upload_id": {"type": "string"},
                    "parts": {"type": "array", "items": {"type": "object", "required": ["part_number", "etag"], "properties": {
                        "part_number": {"type": "integer"}, "etag": {"type": "string", "description": "the ETag header S3 answered for the part"}}}}}},
                "UrlImport": {"type": "object", "additionalProperties": false, "properties": {
                    "url": {"type": "string"}, "urls": {"type": "array", "maxItems": 20, "items": {"type": "string"}},
                    "connector_id": {"type": "string", "description": "a url_import connector; the org's default one otherwise"}}},
                "Filters": {"type": "object", "properties": {
                    "file_types": {"type": "array", "items": {"type": "string"}, "description": "MIME types or wildcards like video/*"},
                    "folders": {"type": "array", "items": {"type": "string"}}}}
            }
        }
    });
    if let (Some(schemas), Value::Object(views)) = (
        doc["components"]["schemas"].as_object_mut(),
        crate::views::schemas(),
    ) {
        schemas.extend(views);
    }
    doc
}
