//! Shared by the image tests (`images`, `record_image`, `hostile_images`): a real registry,
//! images built by buildah/skopeo, a token issuer and a raw HTTP stub.
pub mod build;
pub mod fixture;
pub mod registry;
pub mod served;
pub mod stub;
pub mod token;
