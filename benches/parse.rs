//! Parse throughput on a large, realistic JUnit file (see `benches/parse.sh`, which
//! also measures peak memory and runs Python's `junitparser` on the same file).
//!
//!     parse generate <file> <megabytes>   write a JUnit file of about that size
//!     parse parse <file>                   parse it once, print one JSON line
//!     cargo bench --bench parse            generate 100 MB in a temp dir and parse it
//!
//! The generated file looks like gotestsum/Surefire output of a large E2E run: many
//! suites, properties, passing tests with `<system-out>` logs full of escaped
//! characters, 3 % failures with multi-line messages, 2 % skipped.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use release_audit::evidence::test_reports::parse::{FileOutcome, parse_file};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["generate", file, megabytes] => megabytes
            .parse::<u64>()
            .map_err(|e| format!("megabytes: {e}"))
            .and_then(|mb| generate(Path::new(file), mb * 1_000_000).map_err(|e| e.to_string())),
        ["parse", file] => parse(Path::new(file)),
        [] => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string());
            dir.and_then(|dir| {
                let file = dir.path().join("bench.xml");
                generate(&file, 100_000_000).map_err(|e| e.to_string())?;
                parse(&file)
            })
        }
        _ => Err("usage: parse generate <file> <megabytes> | parse parse <file>".to_string()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn parse(file: &Path) -> Result<(), String> {
    let bytes = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
    let start = Instant::now();
    let outcome = parse_file(file);
    let seconds = start.elapsed().as_secs_f64();
    let FileOutcome::Parsed(report) = outcome else { return Err(format!("did not parse: {outcome:?}")) };
    let t = report.totals;
    println!(
        "{{\"parser\":\"release-audit\",\"bytes\":{bytes},\"seconds\":{seconds:.3},\"mb_per_s\":{:.1},\"tests\":{},\"passed\":{},\"failed\":{},\"errored\":{},\"skipped\":{}}}",
        bytes as f64 / 1e6 / seconds,
        t.tests,
        t.passed,
        t.failed,
        t.errored,
        t.skipped
    );
    Ok(())
}

/// A small deterministic generator (xorshift), so every run writes the same file.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generate(file: &Path, target: u64) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(file)?);
    let mut random = Random(0x2545_F491_4F6C_DD1D);
    let mut written = 0u64;
    let mut chunk = String::with_capacity(1 << 20);
    chunk.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"e2e\">\n");
    let mut suite = 0;
    while written + chunk.len() as u64 <= target {
        suite += 1;
        let package = format!("github.com/kyma-project/telemetry-manager/test/e2e/suite{suite:05}");
        chunk.push_str(&format!(
            "\t<testsuite name=\"{package}\" timestamp=\"2024-05-02T10:11:12Z\" time=\"{}.{:03}\">\n",
            random.below(300),
            random.below(1000)
        ));
        chunk.push_str("\t\t<properties>\n\t\t\t<property name=\"go.version\" value=\"go1.22.3 linux/amd64\"></property>\n\t\t</properties>\n");
        for case in 0..(40 + random.below(40)) {
            let name = format!("TestPipeline{case:03}/scenario_{}", random.below(1000));
            let time = format!("{}.{:03}", random.below(20), random.below(1000));
            chunk.push_str(&format!("\t\t<testcase classname=\"{package}\" name=\"{name}\" time=\"{time}\">\n"));
            match random.below(100) {
                0..=2 => {
                    chunk.push_str("\t\t\t<failure message=\"Failed\" type=\"\">=== RUN   ");
                    chunk.push_str(&name);
                    chunk.push_str("&#xA;    pipeline_test.go:88: Expected &lt;bool&gt;: false to be true&#xA;    pipeline_test.go:89: metric &quot;otelcol_exporter_sent&quot; not found after 60s&#xA;--- FAIL: ");
                    chunk.push_str(&name);
                    chunk.push_str("&#xA;</failure>\n");
                }
                3..=4 => chunk.push_str("\t\t\t<skipped message=\"needs a Gardener cluster\"></skipped>\n"),
                _ => {}
            }
            chunk.push_str("\t\t\t<system-out>");
            for line in 0..(4 + random.below(12)) {
                chunk.push_str(&format!(
                    "2024-05-02T10:11:{:02}Z INFO reconciler pipeline=&quot;{name}&quot; step={line} status=&lt;ok&gt; latency={}ms &amp; retries=0&#xA;",
                    random.below(60),
                    random.below(500)
                ));
            }
            chunk.push_str("</system-out>\n\t\t</testcase>\n");
        }
        chunk.push_str("\t</testsuite>\n");
        if chunk.len() > 1 << 19 {
            out.write_all(chunk.as_bytes())?;
            written += chunk.len() as u64;
            chunk.clear();
        }
    }
    chunk.push_str("</testsuites>\n");
    out.write_all(chunk.as_bytes())?;
    out.flush()
}
