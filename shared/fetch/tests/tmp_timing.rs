#[test]
fn timing() {
    for open in ["<<<<", "<p>a, b, c</p>"] {
        let hostile = open.repeat(50_000);
        let t = std::time::Instant::now();
        let d = scraper::Html::parse_document(&hostile);
        println!("{open} parse: {:?} {}", t.elapsed(), d.tree.nodes().count());
        let t = std::time::Instant::now();
        let a = recorder_fetch::main_content(&hostile, None);
        println!("{open} all: {:?} {}", t.elapsed(), a.markdown.len());
    }
}
