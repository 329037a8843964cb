//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/`) through the entry
//! function its fuzz target calls (`release_audit::fuzzing`), on the stable toolchain.
//! A replay, not a fuzz run: what the fuzzer once found (a crash, a hang, a broken
//! contract) stays fixed. Each entry function panics when the library breaks a
//! contract it documents; the panic is caught here so that every failing input is
//! named at once.

use std::path::{Path, PathBuf};

use release_audit::fuzzing::TARGETS;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus")
}

#[test]
fn every_target_has_a_committed_corpus_and_every_corpus_a_target() {
    let root = corpus_root();
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| {
            panic!("{} is missing ({e}): the fuzz corpora are committed with the sources", root.display())
        })
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut targets: Vec<String> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    targets.sort();
    assert_eq!(dirs, targets, "fuzz/corpus/ and release_audit::fuzzing::TARGETS must name the same targets");
    for (name, _) in TARGETS {
        let fuzz_target = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fuzz/fuzz_targets/{name}.rs"));
        assert!(fuzz_target.is_file(), "{} is missing", fuzz_target.display());
    }
}

#[test]
fn every_corpus_input_replays_without_breaking_a_contract() {
    let root = corpus_root();
    let mut failures = Vec::new();
    let mut replayed = 0;
    for (name, entry) in TARGETS {
        let dir = root.join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{} is missing ({e})", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} is empty: a corpus holds at least its seeds", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Err(panic) = std::panic::catch_unwind(|| entry(&data)) {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{name}: {}: {}", file.display(), why.unwrap_or_default()));
            }
            replayed += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {replayed} corpus inputs break a contract:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
