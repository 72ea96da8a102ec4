//! The `extract` binary: Markdown to stdout, `--json` objects, non-zero exit with a reason.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_extract"))
}

/// A folder of input files for one test, removed when the test ends.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "recorder-extract-cli-{}-{test}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn it_prints_markdown_for_each_file() {
    let dir = TempDir::new("markdown");
    let a = dir.file("a.md", b"# One\n\nText");
    let b = dir.file("b.csv", b"x,y\n1,2\n");
    let out = bin().arg(&a).arg(&b).output().expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "# One\n\nText\n| x | y |\n| --- | --- |\n| 1 | 2 |\n"
    );
}

#[test]
fn json_mode_prints_format_metadata_markdown_and_chunks() {
    let dir = TempDir::new("json");
    let a = dir.file("c.md", b"# Title\n\nBody");
    let out = bin().arg("--json").arg(&a).output().expect("run");
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(value["format"], "markdown");
    assert_eq!(value["markdown"], "# Title\n\nBody");
    assert_eq!(value["metadata"]["title"], "Title");
    assert_eq!(value["chunks"][0]["heading_path"][0], "Title");
    assert!(value["file"].as_str().is_some_and(|f| f.ends_with("c.md")));
}

#[test]
fn a_failing_file_gives_its_reason_and_a_non_zero_exit() {
    let dir = TempDir::new("failing");
    let empty = dir.file("empty.docx", b"");
    let out = bin().arg(&empty).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the file is empty (0 bytes)"));
    let missing = bin().arg("/nonexistent/file.pdf").output().expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}
