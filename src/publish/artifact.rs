//! Upload of the bundle zip as a workflow artifact (v4): create → blob upload → finalize.
//! The zip *is* the artifact: downloading the artifact gives back the bundle's bytes,
//! so the artifact's digest equals `bundle-sha256`.

use crate::bundle::ZippedBundle;
use crate::error::Result;
use crate::github::artifacts::ArtifactName;
use crate::github::artifacts::ArtifactService;
use crate::github::blob;
use crate::github::commands::{AnnotationKind, AnnotationProps, Commands};
use crate::secret::url_signature;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedArtifact {
    pub id: i64,
    pub name: String,
    pub url: Option<String>,
}

/// Retention as asked, clamped to the repository's maximum (`GITHUB_RETENTION_DAYS`).
pub fn effective_retention(asked: Option<u32>, repository_max: Option<u32>, commands: &Commands) -> Option<u32> {
    match (asked, repository_max) {
        (Some(a), Some(max)) if a > max => {
            commands.annotate(
                AnnotationKind::Warning,
                &AnnotationProps { title: Some("retention-days".into()), ..Default::default() },
                &format!("retention-days {a} is more than this repository allows; the artifact is kept {max} days. Use release-asset or storage-url to keep the bundle longer."),
            );
            Some(max)
        }
        (a, _) => a,
    }
}

pub async fn upload_bundle(
    service: &ArtifactService,
    name: &ArtifactName,
    bundle: &ZippedBundle,
    retention_days: Option<u32>,
    overwrite: bool,
    commands: &Commands,
) -> Result<i64> {
    if overwrite && service.list(Some(name.as_str())).await?.iter().any(|a| a.name == name.as_str()) {
        let id = service.delete(name.as_str()).await?;
        log::info!("deleted the existing artifact `{name}` (id {id}) because overwrite is true");
    }
    let expires_at = retention_days.map(|d| {
        (chrono::Utc::now() + chrono::Duration::days(d as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    });
    let url = service.create(name, expires_at).await?;
    if let Some(sig) = url_signature(url.expose()) {
        commands.add_mask(&sig);
    }
    blob::upload_file(service.http(), &url, &bundle.path, bundle.size, service.retry_policy()).await?;
    let id = service.finalize(name, bundle.size, &bundle.sha256).await?;
    log::info!("uploaded artifact `{name}` (id {id}, {} bytes, sha256:{})", bundle.size, bundle.sha256);
    Ok(id)
}
