//! The `webhooks` function: provider notifications. Each provider's delivery is verified before
//! anything is stored (Drive: the channel's own token and its resource id). Answers at once; the
//! sync runs from the queue. An error answer makes the provider deliver again.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use recorder_domain::service::webhooks::{
    DriveNotification, NotificationOutcome, drive_notification,
};
use recorder_domain::{Deps, DomainError};
use serde_json::json;

use crate::error::ApiError;
use crate::openapi::ExtraRoute;
use crate::request;
use crate::routes::match_path;

pub const ROUTES: &[ExtraRoute] = &[ExtraRoute {
    method: "POST",
    path: "/api/connectors/webhooks/{provider}",
    summary: "Provider notifications (drive: changes.watch channel deliveries, verified by channel token)",
    public: true,
}];

fn header(event: &ApiGatewayV2httpRequest, name: &str) -> String {
    event
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub async fn handle_webhook(
    deps: &Deps,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let (method, path) = (request::method(&event), request::path(&event));
    let Some(params) = ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| match_path(r.path, &path))
    else {
        return ApiError::RouteNotFound { method, path }.into_response();
    };
    let provider = params.get("provider").cloned().unwrap_or_default();
    if provider != "drive" {
        return ApiError::NotImplemented(format!(
            "webhooks from '{provider}' are not accepted by this version"
        ))
        .into_response();
    }
    let n = DriveNotification {
        channel_id: header(&event, "x-goog-channel-id"),
        token: header(&event, "x-goog-channel-token"),
        resource_state: header(&event, "x-goog-resource-state"),
        message_number: header(&event, "x-goog-message-number"),
        resource_id: header(&event, "x-goog-resource-id"),
    };
    match drive_notification(deps, &n).await {
        Ok(outcome) => {
            let result = match outcome {
                NotificationOutcome::SyncQueued => "sync_queued",
                NotificationOutcome::Coalesced => "coalesced",
                NotificationOutcome::FollowUp => "follow_up_after_running_sync",
                NotificationOutcome::Ignored(why) => why,
            };
            crate::json_response(200, &json!({"result": result}))
        }
        // Never say which part of a forged delivery was wrong.
        Err(DomainError::Forbidden(why)) => {
            tracing::warn!(channel_id = %n.channel_id, %why, "refused a Drive notification");
            crate::json_response(
                403,
                &json!({"error": {"code": "forbidden", "message": "delivery not verified"}}),
            )
        }
        // Notifications racing for the sync mark: a 5xx makes the provider deliver it again.
        Err(DomainError::Conflict(why)) => {
            tracing::warn!(channel_id = %n.channel_id, %why, "a Drive notification will be delivered again");
            crate::json_response(
                503,
                &json!({"error": {"code": "unavailable", "message": "try again shortly"}}),
            )
        }
        Err(e) => ApiError::Domain(e).into_response(),
    }
}
