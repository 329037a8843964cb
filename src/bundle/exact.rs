//! Exact reading of the JSON files a bundle holds: a key the reader ignores would be a
//! claim no check covers, so every JSON file `verify` (or the audit, for the image records
//! test jobs write) reads must say exactly what it parsed.

/// What a bundle's JSON file says beyond what `verify` read from it, if anything: the
/// first key (as a JSON pointer) that the parsed value does not hold, or whose value it
/// holds otherwise. A key the reader ignores would be a claim no check covers (a forger's
/// `"security_review": "approved"`), so every JSON file `verify` reads must say exactly
/// what it parsed: keys absent from the file (defaults of an older writer) are fine.
pub fn unread_value<T: serde::Serialize>(bytes: &[u8], parsed: &T) -> Option<String> {
    let file: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => return Some(format!("it does not parse as JSON: {e}")),
    };
    let read = match serde_json::to_value(parsed) {
        Ok(value) => value,
        Err(e) => return Some(format!("it cannot be written again: {e}")),
    };
    let mut pointer = String::new();
    (!holds_no_more(&file, &read, &mut pointer)).then(|| if pointer.is_empty() { "/".to_string() } else { pointer })
}

/// Whether `file` says nothing that `read` does not: every key of every object in it is
/// in `read` with a value that in turn says no more, arrays element by element, every
/// other value equal. `pointer` is left at the first place that differs.
fn holds_no_more(file: &serde_json::Value, read: &serde_json::Value, pointer: &mut String) -> bool {
    use serde_json::Value;
    match (file, read) {
        (Value::Object(file), Value::Object(read)) => file.iter().all(|(key, value)| {
            let at = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let holds = read.get(key).is_some_and(|r| holds_no_more(value, r, pointer));
            if holds {
                pointer.truncate(at);
            }
            holds
        }),
        (Value::Array(file), Value::Array(read)) => {
            file.len() == read.len()
                && file.iter().zip(read).enumerate().all(|(i, (value, r))| {
                    let at = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    let holds = holds_no_more(value, r, pointer);
                    if holds {
                        pointer.truncate(at);
                    }
                    holds
                })
        }
        (file, read) => file == read,
    }
}
