//! The fake GitHub services as a standalone process, for the demo (`demo/run`).
//! Prints one JSON line with the variables a step needs, then serves until killed.

#[tokio::main]
async fn main() {
    let fake = release_audit_test_support::FakeGitHub::start().await;
    let mut env = serde_json::Map::new();
    for (k, v) in fake.runtime_env() {
        env.insert(k, v.into());
    }
    env.insert("INPUT_GITHUB-TOKEN".into(), fake.rest_token.clone().into());
    println!("{}", serde_json::Value::Object(env));
    tokio::signal::ctrl_c().await.ok();
}
