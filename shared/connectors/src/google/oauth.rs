//! Google OAuth 2.0 (authorization code with PKCE, offline access), through the `oauth2` crate.
//! Client id and secret come from the app secret (`google_client_id`, `google_client_secret`).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use recorder_domain::ports::AppSecrets;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::source::{OAuthClient, SourceError};

use crate::google::settings::GoogleSettings;

pub struct GoogleOAuth {
    settings: GoogleSettings,
    secrets: Arc<dyn AppSecrets>,
    scopes: &'static [&'static str],
    http: oauth2::reqwest::Client,
}

impl GoogleOAuth {
    pub fn new(
        settings: GoogleSettings,
        secrets: Arc<dyn AppSecrets>,
        scopes: &'static [&'static str],
    ) -> Self {
        // No redirects from the token endpoint: oauth2 recommends it against SSRF.
        let http = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        GoogleOAuth {
            settings,
            secrets,
            scopes,
            http,
        }
    }

    async fn credentials(&self) -> Result<(ClientId, ClientSecret), SourceError> {
        let read = |name: &'static str| async move {
            self.secrets
                .get(name)
                .await
                .map_err(|e| SourceError::io("could not read the app secret", e))?
                .ok_or_else(|| SourceError::Config(format!("{name} is not set in the app secret")))
        };
        Ok((
            ClientId::new(read("google_client_id").await?.expose().to_string()),
            ClientSecret::new(read("google_client_secret").await?.expose().to_string()),
        ))
    }

    fn urls(&self) -> Result<(AuthUrl, TokenUrl), SourceError> {
        let auth = AuthUrl::new(self.settings.auth_url.clone())
            .map_err(|e| SourceError::Config(format!("GOOGLE_AUTH_URL: {e}")))?;
        let token = TokenUrl::new(self.settings.token_url.clone())
            .map_err(|e| SourceError::Config(format!("GOOGLE_TOKEN_URL: {e}")))?;
        Ok((auth, token))
    }
}

fn token_error<RE: std::error::Error + Send + Sync + 'static>(
    e: RequestTokenError<RE, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> SourceError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let detail = r
                .error_description()
                .cloned()
                .unwrap_or_else(|| r.error().to_string());
            match r.error() {
                BasicErrorResponseType::InvalidGrant => SourceError::AuthRevoked(detail),
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => {
                    SourceError::Config(format!("Google refused our client credentials: {detail}"))
                }
                _ => SourceError::Transient(format!("Google token endpoint: {detail}")),
            }
        }
        other => SourceError::io("Google token endpoint", other),
    }
}

fn tokens_from(
    resp: &oauth2::basic::BasicTokenResponse,
    previous_refresh: Option<&Secret>,
) -> OAuthTokens {
    OAuthTokens {
        access_token: Secret::new(resp.access_token().secret().clone()),
        // Google usually returns no new refresh token on refresh: keep the old one.
        refresh_token: resp
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone()))
            .or_else(|| previous_refresh.cloned()),
        expires_at: resp
            .expires_in()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() + d),
        scope: resp.scopes().map(|s| {
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    }
}

#[async_trait]
impl OAuthClient for GoogleOAuth {
    async fn authorize_url(
        &self,
        state: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, SourceError> {
        let (id, secret) = self.credentials().await?;
        let (auth, token) = self.urls()?;
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| SourceError::Config(format!("redirect URI: {e}")))?;
        let client = BasicClient::new(id)
            .set_client_secret(secret)
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect);
        let state = state.to_string();
        let mut req = client
            .authorize_url(move || CsrfToken::new(state))
            // Offline access for a refresh token; consent so a reconnect gets one again.
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .add_extra_param("include_granted_scopes", "true")
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(
                &PkceCodeVerifier::new(code_verifier.to_string()),
            ));
        for s in self.scopes {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        Ok(req.url().0.to_string())
    }

    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<OAuthTokens, SourceError> {
        let (id, secret) = self.credentials().await?;
        let (auth, token) = self.urls()?;
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| SourceError::Config(format!("redirect URI: {e}")))?;
        let client = BasicClient::new(id)
            .set_client_secret(secret)
            .set_auth_uri(auth)
            .set_token_uri(token)
            .set_redirect_uri(redirect);
        let resp = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(tokens_from(&resp, None))
    }

    async fn refresh(&self, tokens: &OAuthTokens) -> Result<OAuthTokens, SourceError> {
        let refresh = tokens
            .refresh_token
            .as_ref()
            .ok_or_else(|| SourceError::AuthRevoked("no refresh token was granted".into()))?;
        let (id, secret) = self.credentials().await?;
        let (auth, token) = self.urls()?;
        let client = BasicClient::new(id)
            .set_client_secret(secret)
            .set_auth_uri(auth)
            .set_token_uri(token);
        let resp = client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(tokens_from(&resp, Some(refresh)))
    }
}
