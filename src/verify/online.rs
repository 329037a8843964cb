//! `verify --online`: whether the released tags still point at the recorded digests.

use super::{Problem, Verification};

/// `--online`: re-resolves every released image reference and says whether its tag
/// still points at the digest the audit recorded.
pub async fn check_released_tags(v: &mut Verification, access: &crate::evidence::images::RegistryAccess) {
    use crate::registry::{FetchError, ImageRef, RegistryClient};
    let Some(images) = v.manifest.as_ref().and_then(|m| m.evidence.images.clone()) else { return };
    let client = RegistryClient::new(access);
    for pair in &images.pairs {
        let reference = pair.released.reference.clone();
        let Some(recorded) = pair.released.digest.as_ref().map(|d| d.to_string()) else { continue };
        let image = match ImageRef::parse(&reference) {
            Ok(i) => i,
            Err(reason) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason });
                continue;
            }
        };
        // A reference with a tag and a digest is checked by its tag: that is what moves.
        let image = if image.tag.is_some() { ImageRef { digest: None, ..image } } else { image };
        match client.manifest(&image).await {
            Ok(now) if now.digest.to_string() == recorded => v.unmoved.push(format!("{reference} @ {recorded}")),
            Ok(now) => v.problems.push(Problem::Moved {
                image: pair.name.clone(),
                reference,
                recorded,
                now: now.digest.to_string(),
            }),
            Err(FetchError::NotFound(why)) => v.problems.push(Problem::Unreachable {
                image: pair.name.clone(),
                reference,
                reason: format!("not found: {why}"),
            }),
            Err(FetchError::Failed(e)) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason: e.to_string() })
            }
        }
    }
}
