//! Main-content extraction on realistic pages built here, scored by word precision and recall
//! against the text a reader would call the article. `cargo test -p recorder-fetch -- --nocapture
//! quality` prints the table that goes in docs/benchmarks.md.

use recorder_fetch::{Article, main_content, word_precision_recall};

struct Case {
    name: &'static str,
    html: String,
    base: &'static str,
    title: &'static str,
    /// The main text, as a reader would select it.
    expected: String,
    /// Phrases from the page furniture that must not appear in the output.
    absent: &'static [&'static str],
}

// ---------------------------------------------------------------------------------------------
// Pages

const NEWS_BODY: &[&str] = &[
    "The city council voted on Tuesday to expand the tram network by twelve kilometres, the largest extension since the line opened in 1994.",
    "Construction is expected to begin next spring, with the first new stops opening in late 2027. The council estimates the cost at 410 million euros, of which the regional government will pay roughly half.",
    "Residents of the northern districts, who currently rely on a single bus route, welcomed the decision. \"It will cut my commute in half,\" said Amira Haddad, a nurse who travels to the central hospital every morning.",
    "Opposition members criticised the timeline, arguing that similar projects in neighbouring cities ran years late and far over budget. The council said it had set aside a contingency fund of 40 million euros.",
    "The plan still needs approval from the regional transport authority, which is expected to rule before the end of the year.",
];

fn news_article() -> Case {
    let body: String = NEWS_BODY.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Council approves tram extension to northern districts | The Daily Ledger</title>
  <meta property="og:title" content="Council approves tram extension to northern districts">
  <meta property="og:site_name" content="The Daily Ledger">
  <meta property="article:published_time" content="2026-03-10T08:30:00Z">
  <meta name="author" content="Jonas Berg">
  <meta name="description" content="A twelve-kilometre extension will link the northern districts to the centre by 2027.">
  <link rel="canonical" href="/news/2026/03/tram-extension">
  <script>window.dataLayer = [{{"page": "article"}}];</script>
  <style>.hidden {{ display: none }}</style>
</head>
<body>
  <div id="cookieConsent" class="cookie-banner">
    <p>We use cookies to improve your experience, personalise advertising and analyse traffic. By continuing you accept our use of cookies.</p>
    <button>Accept all</button> <button>Manage preferences</button>
  </div>
  <header class="site-header">
    <a href="/" class="logo">The Daily Ledger</a>
    <nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/culture">Culture</a></li><li><a href="/opinion">Opinion</a></li></ul></nav>
    <form action="/search"><input name="q" placeholder="Search the Ledger"></form>
  </header>
  <div class="ad ad-leaderboard"><p>Advertisement: Switch your energy supplier today and save up to 300 euros a year, guaranteed.</p></div>
  <main>
    <article class="story">
      <header>
        <h1>Council approves tram extension to northern districts</h1>
        <p class="byline">By <a rel="author" href="/authors/jonas-berg">Jonas Berg</a>, transport correspondent</p>
        <time datetime="2026-03-10T08:30:00Z">10 March 2026</time>
      </header>
      <div class="share-tools"><a href="https://twitter.com/share">Share on Twitter</a> <a href="https://facebook.com/share">Share on Facebook</a></div>
      <div class="story-body">
{body}      </div>
      <aside class="related-links"><h3>Related stories</h3><ul><li><a href="/news/bus-strike">Bus drivers announce a weekend strike over pay and conditions</a></li><li><a href="/news/bike-lanes">New bike lanes divide shopkeepers on the high street</a></li></ul></aside>
      <div class="newsletter-signup"><p>Get the morning briefing delivered to your inbox every weekday, free of charge.</p></div>
    </article>
    <section id="comments" class="comments">
      <h2>Comments (3)</h2>
      <div class="comment"><p>Finally! I have been waiting for this tram line for a decade, and it is about time, honestly.</p></div>
      <div class="comment"><p>Another vanity project that taxpayers will be paying off for generations, mark my words.</p></div>
    </section>
  </main>
  <div class="promo-box"><p>Subscribe now and read unlimited articles for just one euro for the first three months.</p></div>
  <footer><p>Copyright 2026 The Daily Ledger. All rights reserved.</p><ul><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of use</a></li></ul></footer>
</body>
</html>"#
    );
    let expected = format!(
        "Council approves tram extension to northern districts\nBy Jonas Berg, transport correspondent\n10 March 2026\n{}",
        NEWS_BODY.join("\n")
    );
    Case {
        name: "news article",
        html,
        base: "https://ledger.example/news/2026/03/tram-extension?utm_source=x",
        title: "Council approves tram extension to northern districts",
        expected,
        absent: &[
            "cookies",
            "Advertisement",
            "Share on Twitter",
            "Related stories",
            "Bus drivers",
            "morning briefing",
            "vanity project",
            "Subscribe now",
            "Copyright",
            "Privacy policy",
            "Sport",
        ],
    }
}

const BLOG_BODY: &[&str] = &[
    "Last autumn I finally replaced the sourdough starter I had kept alive for six years. It had grown sluggish, and no amount of feeding seemed to wake it up.",
    "The new starter came from a bakery in the old town, and within a week the difference was obvious: the dough rose in half the time, and the crumb was open and glossy.",
    "What I learned is that a starter is not a pet. It is a culture, and cultures drift. If yours takes more than eight hours to double at room temperature, it is worth starting again.",
];

fn blog_post() -> Case {
    let body: String = BLOG_BODY.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let html = format!(
        r#"<html lang="en">
<head>
  <title>Why I replaced my sourdough starter - Crumb and Crust</title>
  <meta name="description" content="">
</head>
<body class="blog single-post">
  <div id="top-menu" class="menu"><a href="/">Home</a> <a href="/recipes">Recipes</a> <a href="/about">About</a></div>
  <div class="wrapper">
    <div id="primary" class="content-area">
      <div class="post">
        <h1 class="entry-title">Why I replaced my sourdough starter</h1>
        <div class="post-meta">Posted on <span>4 February 2026</span> by <span class="author">Marta Lind</span></div>
        <div class="entry-content">
{body}          <h2>What to look for</h2>
          <ul>
            <li>It doubles in under eight hours.</li>
            <li>It smells <em>sour</em>, not like nail varnish.</li>
            <li>Bubbles reach the <strong>bottom</strong> of the jar.</li>
          </ul>
        </div>
      </div>
    </div>
    <div id="secondary" class="sidebar widget-area">
      <div class="widget"><h3>About me</h3><p>I bake bread at weekends and write about it on weekdays, mostly about flour, water and patience.</p></div>
      <div class="widget"><h3>Archives</h3><ul><li><a href="/2026/01">January 2026</a></li><li><a href="/2025/12">December 2025</a></li><li><a href="/2025/11">November 2025</a></li></ul></div>
      <div class="widget"><h3>Popular posts</h3><ul><li><a href="/rye">A beginner's guide to rye bread, with a simple recipe for the weekend</a></li></ul></div>
    </div>
  </div>
  <div class="site-footer">Powered by a static site generator. Theme by Someone.</div>
</body>
</html>"#
    );
    let expected = format!(
        "Why I replaced my sourdough starter\nPosted on 4 February 2026 by Marta Lind\n{}\nWhat to look for\nIt doubles in under eight hours.\nIt smells sour, not like nail varnish.\nBubbles reach the bottom of the jar.",
        BLOG_BODY.join("\n")
    );
    Case {
        name: "blog post with sidebar",
        html,
        base: "https://crumb.example/2026/02/starter",
        title: "Why I replaced my sourdough starter",
        expected,
        absent: &[
            "About me",
            "Archives",
            "Popular posts",
            "Powered by",
            "Recipes",
        ],
    }
}

fn docs_page() -> Case {
    let html = r#"<!doctype html>
<html lang="en">
<head><title>Configuring retries — Widget SDK documentation</title></head>
<body>
  <nav class="docs-nav"><ul><li><a href="/docs/install">Installation</a></li><li><a href="/docs/retries">Configuring retries</a></li><li><a href="/docs/auth">Authentication</a></li></ul></nav>
  <div class="breadcrumbs"><a href="/docs">Docs</a> / Guides / Retries</div>
  <main role="main">
    <h1>Configuring retries</h1>
    <p>The client retries failed requests with exponential backoff. You can change the number of attempts and the base delay when you build it.</p>
    <pre><code class="language-rust">let client = Client::builder()
    .max_attempts(5)
    .base_delay(Duration::from_millis(200))
    .build()?;</code></pre>
    <p>The following settings are available:</p>
    <table>
      <thead><tr><th>Setting</th><th>Default</th><th>Meaning</th></tr></thead>
      <tbody>
        <tr><td><code>max_attempts</code></td><td>3</td><td>Attempts including the first one</td></tr>
        <tr><td><code>base_delay</code></td><td>100 ms</td><td>Delay before the first retry</td></tr>
      </tbody>
    </table>
    <blockquote><p>Requests that are not idempotent are never retried.</p></blockquote>
    <p>See <a href="../auth">Authentication</a> for credentials.</p>
  </main>
  <footer class="docs-footer"><p>Was this page helpful? Yes / No</p><p>Edit this page on GitHub</p></footer>
</body>
</html>"#
        .to_owned();
    let expected = "Configuring retries\nThe client retries failed requests with exponential backoff. You can change the number of attempts and the base delay when you build it.\nlet client = Client::builder()\n.max_attempts(5)\n.base_delay(Duration::from_millis(200))\n.build()?;\nThe following settings are available:\nSetting Default Meaning\nmax_attempts 3 Attempts including the first one\nbase_delay 100 ms Delay before the first retry\nRequests that are not idempotent are never retried.\nSee Authentication for credentials.".to_owned();
    Case {
        name: "docs page with code and table",
        html,
        base: "https://widgets.example/docs/retries",
        title: "Configuring retries",
        expected,
        absent: &[
            "Installation",
            "Was this page helpful",
            "Edit this page",
            "Guides",
        ],
    }
}

const DIV_BODY: &[&str] = &[
    "Researchers at the coastal institute have mapped the migration of the grey seal across the northern sea, tracking forty animals with satellite tags over three years.",
    "The seals travelled much farther than expected, some covering more than two thousand kilometres in a single season, and they returned to the same breeding beaches year after year.",
    "The team says the findings should shape where offshore wind farms are built, since construction noise could disturb the feeding grounds the animals depend on.",
    "The full data set, including the tracks of every tagged seal, will be published openly next month so that other researchers can build on it.",
];

fn div_only_page() -> Case {
    let body: String = DIV_BODY
        .iter()
        .map(|p| format!("<div class=\"para\">{p}</div>\n"))
        .collect();
    let html = format!(
        r#"<html>
<head><title>Grey seals travel farther than thought</title></head>
<body>
  <div class="top">
    <div class="links"><a href="/">Home</a> | <a href="/research">Research</a> | <a href="/people">People</a> | <a href="/contact">Contact</a></div>
  </div>
  <div class="container">
    <div class="left">
      <div><a href="/news/1">Institute wins funding for a new research vessel</a></div>
      <div><a href="/news/2">Open day at the marine station on 14 May</a></div>
      <div><a href="/news/3">Job vacancies in the ocean modelling group</a></div>
    </div>
    <div class="middle">
      <div class="headline"><b>Grey seals travel farther than thought</b></div>
{body}    </div>
  </div>
  <div class="bottom">Coastal Institute, Harbour Road 1. Phone 555 0100. Email info at institute.</div>
</body>
</html>"#
    );
    let expected = format!(
        "Grey seals travel farther than thought\n{}",
        DIV_BODY.join("\n")
    );
    Case {
        name: "div-only page",
        html,
        base: "https://institute.example/news/seals",
        title: "Grey seals travel farther than thought",
        expected,
        absent: &[
            "research vessel",
            "Open day",
            "Job vacancies",
            "Harbour Road",
            "Contact",
        ],
    }
}

const MAGAZINE_BODY: &[&str] = &[
    "For most of the twentieth century, the lighthouse keepers of the western isles kept logbooks that recorded the weather every four hours, day and night.",
    "Those logbooks, now digitised by a team of volunteers, have become one of the longest continuous weather records in the region, stretching from 1871 to 1998.",
    "Climate scientists say the records fill a gap between early ship observations and modern satellite data, and they have already revised estimates of storm frequency in the area.",
    "The volunteers transcribed more than two million entries by hand, checking difficult handwriting against neighbouring stations when a word could not be read.",
];

/// Schema.org markup: the body is `itemprop=articleBody`, the headline outside it, and the
/// page also holds teaser `<article>`s with no class hints.
fn magazine_page() -> Case {
    let body: String = MAGAZINE_BODY
        .iter()
        .map(|p| format!("<p>{p}</p>\n"))
        .collect();
    let html = format!(
        r#"<html lang="en"><head><title>The weather diaries of the lighthouse keepers</title></head>
<body>
  <div class="top-bar"><a href="/">Home</a> <a href="/science">Science</a> <a href="/history">History</a></div>
  <div itemscope itemtype="https://schema.org/Article">
    <h1 itemprop="headline">The weather diaries of the lighthouse keepers</h1>
    <div itemprop="articleBody">
{body}    </div>
  </div>
  <h2>More from us</h2>
  <article><h3><a href="/a">The last ferry of the season</a></h3><p>Islanders say goodbye to a summer timetable.</p></article>
  <article><h3><a href="/b">Why puffins are returning</a></h3><p>A quiet recovery on the cliffs, after a decade of decline.</p></article>
</body></html>"#
    );
    let expected = format!(
        "The weather diaries of the lighthouse keepers\n{}",
        MAGAZINE_BODY.join("\n")
    );
    Case {
        name: "schema.org body with teasers",
        html,
        base: "https://mag.example/science/lighthouses",
        title: "The weather diaries of the lighthouse keepers",
        expected,
        absent: &["More from us", "last ferry", "puffins", "History"],
    }
}

const LINKY_BODY: &[&str] = &[
    "This week in the project: the <a href=\"/pr/101\">parser rewrite</a> landed, <a href=\"/pr/102\">error messages</a> now point at the offending column, and the <a href=\"/pr/103\">release checklist</a> was automated.",
    "Thanks to everyone who tested the nightly builds and reported regressions; three of them were fixed within a day, and the fourth turned out to be a bug in a dependency.",
    "Next week we plan to freeze features for the 2.0 release. If your change is not merged by Friday, it will move to the next cycle.",
];

/// Prose with inline links next to a plain list of links, no class hints anywhere.
fn linky_update() -> Case {
    let body: String = LINKY_BODY.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let html = format!(
        r#"<html><head><title>Project update, week 12</title></head>
<body>
  <div>
    <div>
      <h1>Project update, week 12</h1>
{body}    </div>
    <div>
      <ul><li><a href="/w11">Week 11</a></li><li><a href="/w10">Week 10</a></li><li><a href="/w9">Week 9</a></li><li><a href="/w8">Week 8</a></li><li><a href="/archive">All updates</a></li></ul>
    </div>
  </div>
</body></html>"#
    );
    let expected = format!(
        "Project update, week 12\n{}",
        LINKY_BODY
            .iter()
            .map(|p| strip_tags(p))
            .collect::<Vec<_>>()
            .join("\n")
    );
    Case {
        name: "prose with inline links, no hints",
        html,
        base: "https://project.example/updates/12",
        title: "Project update, week 12",
        expected,
        absent: &["Week 11", "All updates"],
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn cases() -> Vec<Case> {
    vec![
        news_article(),
        blog_post(),
        docs_page(),
        div_only_page(),
        magazine_page(),
        linky_update(),
    ]
}

struct Score {
    precision: f64,
    recall: f64,
    title_ok: bool,
}

fn score(case: &Case) -> (Article, Score) {
    let article = main_content(&case.html, Some(case.base));
    let (precision, recall) = word_precision_recall(&case.expected, &article.markdown);
    let title_ok = article.title.as_deref() == Some(case.title);
    (
        article,
        Score {
            precision,
            recall,
            title_ok,
        },
    )
}

#[test]
fn main_text_is_kept_with_precision_and_recall_of_at_least_ninety_percent() {
    for case in cases() {
        let (article, s) = score(&case);
        assert!(
            s.precision >= 0.9 && s.recall >= 0.9,
            "{}: precision {:.3}, recall {:.3}\n--- markdown ---\n{}",
            case.name,
            s.precision,
            s.recall,
            article.markdown
        );
        assert!(s.title_ok, "{}: title {:?}", case.name, article.title);
        for phrase in case.absent {
            assert!(
                !article.markdown.contains(phrase),
                "{}: furniture {phrase:?} kept\n{}",
                case.name,
                article.markdown
            );
        }
    }
}

/// Prints the benchmark table for docs/benchmarks.md.
#[test]
fn quality_table() {
    println!("| Page | Words expected | Precision | Recall | Title |");
    println!("| --- | ---: | ---: | ---: | --- |");
    let (mut p_sum, mut r_sum, mut titles) = (0.0, 0.0, 0);
    let cases = cases();
    for case in &cases {
        let (_, s) = score(case);
        let words = case.expected.split_whitespace().count();
        println!(
            "| {} | {words} | {:.3} | {:.3} | {} |",
            case.name,
            s.precision,
            s.recall,
            if s.title_ok { "exact" } else { "wrong" }
        );
        p_sum += s.precision;
        r_sum += s.recall;
        titles += usize::from(s.title_ok);
    }
    let n = cases.len() as f64;
    println!(
        "| **mean** | | {:.3} | {:.3} | {titles}/{} |",
        p_sum / n,
        r_sum / n,
        cases.len()
    );
}

#[test]
fn metadata_is_read_from_the_head_and_the_page() {
    let article = main_content(
        &news_article().html,
        Some("https://ledger.example/news/2026/03/x"),
    );
    assert_eq!(article.site_name.as_deref(), Some("The Daily Ledger"));
    assert_eq!(article.byline.as_deref(), Some("Jonas Berg"));
    assert_eq!(
        article.published_time.as_deref(),
        Some("2026-03-10T08:30:00Z")
    );
    assert_eq!(article.language.as_deref(), Some("en-GB"));
    assert_eq!(
        article.canonical_url.as_deref(),
        Some("https://ledger.example/news/2026/03/tram-extension")
    );
    assert_eq!(
        article.excerpt.as_deref(),
        Some(
            "A twelve-kilometre extension will link the northern districts to the centre by 2027."
        )
    );

    // Without head metadata: byline from a class, excerpt from the first paragraph.
    let blog = main_content(&blog_post().html, None);
    assert_eq!(blog.byline.as_deref(), Some("Marta Lind"));
    assert!(
        blog.excerpt
            .unwrap()
            .starts_with("Last autumn I finally replaced")
    );
    assert_eq!(blog.language.as_deref(), Some("en"));
    assert_eq!(blog.site_name, None);
}

#[test]
fn structure_survives_as_markdown() {
    let docs = main_content(
        &docs_page().html,
        Some("https://widgets.example/docs/retries"),
    );
    let md = &docs.markdown;
    assert!(md.starts_with("# Configuring retries\n\n"), "{md}");
    assert!(
        md.contains("```rust\nlet client = Client::builder()\n    .max_attempts(5)\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "| Setting | Default | Meaning |\n| --- | --- | --- |\n| `max_attempts` | 3 | Attempts including the first one |"
        ),
        "{md}"
    );
    assert!(
        md.contains("> Requests that are not idempotent are never retried."),
        "{md}"
    );
    assert!(
        md.contains("[Authentication](https://widgets.example/auth)"),
        "{md}"
    );

    let blog = main_content(&blog_post().html, None);
    assert!(
        blog.markdown.contains("## What to look for"),
        "{}",
        blog.markdown
    );
    assert!(
        blog.markdown
            .contains("- It smells *sour*, not like nail varnish.")
    );
    assert!(
        blog.markdown
            .contains("- Bubbles reach the **bottom** of the jar.")
    );
}

#[test]
fn nested_lists_images_and_unsafe_links() {
    let html = r##"<html><body><article>
        <p>Some introductory text that is long enough to be the article, with a comma, and another one, and more words besides to pass the threshold easily.</p>
        <ol start="3"><li>Third<ul><li>nested <a href="/a">link</a></li><li>second nested</li></ul></li><li>Fourth</li></ol>
        <p><img src="/chart.png" alt="Sales by month"> <img src="/spacer.gif"> <img src="/x.png" alt=""></p>
        <p><a href="javascript:alert(1)">click me</a> and <a href="#top">back to top</a>.<br>Next line</p>
    </article></body></html>"##;
    let md = main_content(html, Some("https://shop.example/blog/post")).markdown;
    assert!(
        md.contains(
            "3. Third\n    - nested [link](https://shop.example/a)\n    - second nested\n4. Fourth"
        ),
        "{md}"
    );
    assert!(
        md.contains("![Sales by month](https://shop.example/chart.png)"),
        "{md}"
    );
    assert!(!md.contains("spacer") && !md.contains("x.png"), "{md}");
    assert!(
        md.contains("click me and back to top.\\\nNext line"),
        "{md}"
    );
    assert!(!md.contains("javascript"), "{md}");
}

#[test]
fn deeply_nested_hostile_html_neither_overflows_nor_hangs() {
    let started = std::time::Instant::now();
    let depth = 200_000;
    let hostile = format!(
        "{}deep text{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let article = main_content(&hostile, None);
    assert!(article.markdown.len() < 1024 * 1024);

    // Nested just under the parse limit: rendered (flattened past the render limit), not lost.
    let nested = format!(
        "{}kept words{}",
        "<blockquote>".repeat(400),
        "</blockquote>".repeat(400)
    );
    let article = main_content(&nested, None);
    assert!(
        article.markdown.contains("kept words"),
        "{}",
        article.markdown
    );

    // Other shapes that nest: tables, unclosed formatting, `<div/>` (the slash is ignored),
    // and script text that must stay out even where deep subtrees are flattened.
    for (open, close) in [
        ("<table><tr><td>", "</td></tr></table>"),
        ("<b><i>", "</i></b>"),
        ("<div/>", ""),
        ("<section><script>var secret = 1;</script>", "</section>"),
        // Wide rather than deep: must stay linear.
        ("<<<<", ""),
        ("<div><p>a, b, c and some more words</p></div>", ""),
    ] {
        let hostile = format!("{}visible{}", open.repeat(50_000), close.repeat(50_000));
        let article = main_content(&hostile, None);
        assert!(!article.markdown.contains("secret"), "{open}");
        assert!(article.markdown.len() <= 1024 * 1024, "{open}");
    }

    let lists = "<ul><li>".repeat(150) + "leaf";
    let article = main_content(&lists, None);
    assert!(article.markdown.contains("leaf"));
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn output_size_is_capped() {
    let paragraph = "<p>".to_owned() + &"word ".repeat(2_000) + "</p>";
    let html = format!("<article>{}</article>", paragraph.repeat(400));
    let article = main_content(&html, None);
    assert!(article.markdown.len() <= 1024 * 1024);
    assert!(article.markdown.len() > 512 * 1024);
}

#[test]
fn an_empty_or_furniture_only_page_gives_an_empty_article() {
    assert_eq!(main_content("", None).markdown, "");
    let furniture = r#"<html><head><title>Nothing here</title></head><body><nav><a href="/">Home</a></nav><footer>Footer</footer></body></html>"#;
    let article = main_content(furniture, None);
    assert_eq!(article.markdown, "");
    assert_eq!(article.title.as_deref(), Some("Nothing here"));
}
