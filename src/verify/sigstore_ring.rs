//! The cryptography `sigstore-verify` runs on, from `ring` (the project's one crypto
//! library, also under rustls): hashing and signature verification only.
//!
//! `sigstore-crypto` ships an `aws-lc-rs` provider behind its default feature; this
//! build turns that feature off (no `aws-lc-sys` C build) and installs this provider
//! instead. It verifies every scheme Sigstore's GitHub and public-good instances use
//! (ECDSA P-256/P-384, Ed25519, RSA PKCS#1 and PSS); ML-DSA and verification over a
//! bare digest (a hashedrekord "message signature") are refused with a reason: `ring`
//! has neither, and release-audit's bundles are DSSE envelopes, which are verified over
//! the envelope's bytes.

use ring::digest;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sigstore_verify::crypto::{CryptoProvider, Error, HashContext, Result, SigningScheme};
use sigstore_verify::types::HashAlgorithm;

/// The provider; installed once per process by [`install`].
#[derive(Debug)]
pub struct RingProvider;

static PROVIDER: RingProvider = RingProvider;

/// Installs [`RingProvider`] as `sigstore-crypto`'s process-wide provider (idempotent).
pub fn install() {
    // Err means a provider is installed already: ours, by an earlier call.
    let _ = sigstore_verify::crypto::install_default_provider(&PROVIDER);
}

struct RingHash(digest::Context);

impl HashContext for RingHash {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

fn algorithm(scheme: SigningScheme) -> Result<&'static dyn VerificationAlgorithm> {
    Ok(match scheme {
        SigningScheme::EcdsaP256Sha256 => &signature::ECDSA_P256_SHA256_ASN1,
        SigningScheme::EcdsaP256Sha384 => &signature::ECDSA_P256_SHA384_ASN1,
        SigningScheme::EcdsaP384Sha256 => &signature::ECDSA_P384_SHA256_ASN1,
        SigningScheme::EcdsaP384Sha384 => &signature::ECDSA_P384_SHA384_ASN1,
        SigningScheme::Ed25519 => &signature::ED25519,
        SigningScheme::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        SigningScheme::RsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        SigningScheme::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        SigningScheme::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SigningScheme::RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        SigningScheme::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        other => {
            return Err(Error::UnsupportedAlgorithm(format!(
                "{} signatures are not supported by this build (ring has no {0})",
                other.name()
            )));
        }
    })
}

impl CryptoProvider for RingProvider {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>> {
        let alg = match algorithm {
            HashAlgorithm::Sha2256 => &digest::SHA256,
            HashAlgorithm::Sha2384 => &digest::SHA384,
            HashAlgorithm::Sha2512 => &digest::SHA512,
            other => return Err(Error::UnsupportedAlgorithm(format!("cannot compute {other} digests"))),
        };
        Ok(Box::new(RingHash(digest::Context::new(alg))))
    }

    fn verify_raw(&self, scheme: SigningScheme, key: &[u8], data: &[u8], sig: &[u8]) -> Result<()> {
        UnparsedPublicKey::new(algorithm(scheme)?, key)
            .verify(data, sig)
            .map_err(|_| Error::Verification(format!("{} signature invalid", scheme.name())))
    }

    fn verify_prehashed(&self, scheme: SigningScheme, _key: &[u8], _digest: &[u8], _sig: &[u8]) -> Result<()> {
        Err(Error::UnsupportedAlgorithm(format!(
            "{} verification over a bare digest is not supported by this build: sign a DSSE attestation",
            scheme.name()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    #[test]
    fn verifies_what_ring_signed_and_refuses_a_changed_message() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let sig = pair.sign(&rng, b"statement").unwrap();
        let key = pair.public_key().as_ref();
        RingProvider.verify_raw(SigningScheme::EcdsaP256Sha256, key, b"statement", sig.as_ref()).unwrap();
        let err = RingProvider.verify_raw(SigningScheme::EcdsaP256Sha256, key, b"statemenT", sig.as_ref());
        assert!(err.unwrap_err().to_string().contains("signature invalid"));
    }

    #[test]
    fn hashes_match_the_standard_digests() {
        let mut ctx = RingProvider.hash(HashAlgorithm::Sha2256).unwrap();
        ctx.update(b"abc");
        assert_eq!(hex::encode(ctx.finalize()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
