//! The curriculum map, `docs/curriculum.ko.md`, and its English twin `docs/curriculum.md`:
//! both cover every week of the 6-week curriculum, the capstone and every roadmap item, in
//! the same structure; and everything they name exists in the repository: paths, scripts
//! (executable), `--example`/`--test` targets, `-p` packages, `--features`, and links.
//!
//! No services needed: `cargo test --test curriculum_map`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag};

const MAPS: [&str; 2] = ["docs/curriculum.ko.md", "docs/curriculum.md"];

/// The anchors each map must have, in this order: the six weeks and week 0, the Vue
/// integration, the capstone, then each item of `roadmap-python-sql-fastapi.ko.md`.
const SECTIONS: [&str; 27] = [
    "week-0",
    "week-1",
    "week-2",
    "week-3",
    "week-4",
    "week-5",
    "week-6",
    "vue",
    "capstone",
    "roadmap-python",
    "roadmap-sql",
    "roadmap-fastapi",
    "roadmap-docker",
    "roadmap-linux",
    "roadmap-git",
    "roadmap-crawler",
    "roadmap-crud-project",
    "roadmap-mini-service",
    "roadmap-portfolio-docs",
    "roadmap-visualization",
    "roadmap-async",
    "roadmap-ml",
    "roadmap-testing",
    "roadmap-ci",
    "roadmap-logging",
    "roadmap-async-http",
    "roadmap-goal",
];

/// Sections of things the kit does not have: each must say so, in its language.
const NOT_BUILT: [&str; 3] = ["roadmap-sql", "roadmap-visualization", "roadmap-ml"];

/// Where a repository path may start; other words in code spans (URLs, headers, JSON) are
/// not paths.
const PATH_PREFIXES: [&str; 10] = [
    "examples/",
    "tests/",
    "scripts/",
    "deploy/",
    "docs/",
    "config/",
    "templates/",
    ".github/",
    "src/",
    "starter-",
];

/// Files at the repository's root that the maps may name.
const ROOT_FILES: [&str; 4] = [".dockerignore", "BENCHMARKS.md", "README.md", "Cargo.toml"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one map says, as far as these tests look.
#[derive(Default)]
struct Map {
    /// The `<a id="…">` anchors, in order.
    anchors: Vec<String>,
    /// Table rows after each anchor.
    rows: BTreeMap<String, usize>,
    /// The text after each anchor (prose and code), for the "not built" markers.
    text: BTreeMap<String, String>,
    /// How many headings of each level.
    headings: BTreeMap<HeadingLevel, usize>,
    /// Every inline code span and every line of a code block.
    code: Vec<String>,
    /// Every link target.
    links: Vec<String>,
}

fn read(file: &str) -> Map {
    let source = fs::read_to_string(root().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut map = Map::default();
    let mut section = String::new();
    let mut in_code_block = false;
    for event in Parser::new_ext(&source, Options::ENABLE_TABLES) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                if let Some(id) = anchor_id(&html) {
                    section = id.to_owned();
                    map.anchors.push(section.clone());
                }
            }
            Event::Start(Tag::Heading { level, .. }) => {
                *map.headings.entry(level).or_default() += 1;
            }
            Event::Start(Tag::TableRow) => *map.rows.entry(section.clone()).or_default() += 1,
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(Tag::Link { dest_url, .. }) => map.links.push(dest_url.to_string()),
            Event::Code(code) => {
                map.text.entry(section.clone()).or_default().push_str(&code);
                map.code.push(code.to_string());
            }
            Event::Text(text) => {
                map.text.entry(section.clone()).or_default().push_str(&text);
                if in_code_block {
                    map.code.extend(text.lines().map(str::to_owned));
                }
            }
            _ => {}
        }
    }
    map
}

/// `week-0` of `<a id="week-0">`.
fn anchor_id(html: &str) -> Option<&str> {
    let rest = html.trim().strip_prefix("<a id=\"")?;
    rest.split_once('"').map(|(id, _)| id)
}

#[test]
fn both_maps_cover_every_week_and_roadmap_item_in_the_same_structure() {
    let [ko, en] = MAPS.map(read);
    let mut problems = Vec::new();
    for (file, map) in MAPS.iter().zip([&ko, &en]) {
        if map.anchors != SECTIONS {
            problems.push(format!(
                "{file}: anchors {:?}, expected {SECTIONS:?}",
                map.anchors
            ));
        }
    }
    if ko.headings != en.headings {
        problems.push(format!(
            "headings per level differ: ko {:?}, en {:?}",
            ko.headings, en.headings
        ));
    }
    if ko.rows != en.rows {
        problems.push(format!(
            "table rows per section differ: ko {:?}, en {:?}",
            ko.rows, en.rows
        ));
    }
    for section in NOT_BUILT {
        for (file, map, marker) in [(MAPS[0], &ko, "아직 없음"), (MAPS[1], &en, "ot built")] {
            let text = map.text.get(section).map(String::as_str).unwrap_or("");
            if !text.contains(marker) {
                problems.push(format!("{file} #{section}: not marked `{marker}`"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// A word of a code span, without the punctuation around it.
fn words(code: &str) -> Vec<&str> {
    code.split_whitespace()
        .map(|w| w.trim_matches(|c: char| "'\"(),;:".contains(c)))
        .filter(|w| !w.is_empty())
        .collect()
}

fn is_repo_path(word: &str) -> bool {
    ROOT_FILES.contains(&word)
        || (PATH_PREFIXES.iter().any(|p| word.starts_with(p))
            && word.contains('/')
            && !word.contains('<'))
}

/// `examples/NAME.rs` or `examples/NAME/main.rs` (Cargo's discovery), in `dir`.
fn target_exists(dir: &Path, name: &str) -> bool {
    dir.join(format!("{name}.rs")).is_file() || dir.join(name).join("main.rs").is_file()
}

/// The workspace's packages (directory names) and the root package's features.
fn manifest() -> (BTreeSet<String>, BTreeSet<String>) {
    // A newline first, so that every section header follows one.
    let text = format!(
        "\n{}",
        fs::read_to_string(root().join("Cargo.toml")).unwrap()
    );
    let section = |name: &str| -> Vec<String> {
        let start = text
            .find(&format!("\n[{name}]\n"))
            .unwrap_or_else(|| panic!("no [{name}] in Cargo.toml"));
        text[start + name.len() + 4..]
            .lines()
            .take_while(|l| !l.starts_with('['))
            .map(str::to_owned)
            .collect()
    };
    let members = section("workspace")
        .iter()
        .find_map(|l| l.strip_prefix("members = "))
        .expect("a one-line members list")
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    let features = section("features")
        .iter()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
        .collect();
    (members, features)
}

fn check_word(word: &str, problems: &mut BTreeSet<String>) {
    if !is_repo_path(word) {
        return;
    }
    let path = root().join(word);
    let Ok(meta) = fs::metadata(&path) else {
        problems.insert(format!("no such path: {word}"));
        return;
    };
    let script = word
        .strip_prefix("scripts/")
        .filter(|s| !s.contains(['.', '/']));
    if script.is_some() && (!meta.is_file() || meta.permissions().mode() & 0o111 == 0) {
        problems.insert(format!("not an executable script: {word}"));
    }
}

/// The word after each `flag`.
fn values<'a>(words: &[&'a str], flag: &str) -> Vec<&'a str> {
    words
        .windows(2)
        .filter(|w| w[0] == flag)
        .map(|w| w[1])
        .collect()
}

/// `--example X`, `--test X` (in `-p P` when given), `-p P` and `--features F` of one
/// command line.
fn check_command(
    words: &[&str],
    members: &BTreeSet<String>,
    features: &BTreeSet<String>,
    problems: &mut BTreeSet<String>,
) {
    // `-p` is cargo's package only in a cargo command (`docker compose -p` is a project).
    let package = if words.contains(&"cargo") {
        values(words, "-p").first().copied()
    } else {
        None
    };
    if let Some(p) = package
        && !members.contains(p)
    {
        problems.insert(format!("-p {p}: not a workspace member"));
    }
    for example in values(words, "--example") {
        if !target_exists(&root().join("examples"), example) {
            problems.insert(format!("--example {example}: no such example"));
        }
    }
    for test in values(words, "--test") {
        let dir = root().join(package.unwrap_or(".")).join("tests");
        if !target_exists(&dir, test) {
            problems.insert(format!("--test {test}: no such test target"));
        }
    }
    for feature in values(words, "--features") {
        if package.is_none() && !features.contains(feature) {
            problems.insert(format!(
                "--features {feature}: no such feature of the facade"
            ));
        }
    }
}

#[test]
fn everything_the_maps_name_exists() {
    let (members, features) = manifest();
    let mut problems = BTreeSet::new();
    for file in MAPS {
        let map = read(file);
        assert!(
            map.code.len() > 100,
            "{file}: only {} code spans read",
            map.code.len()
        );
        for code in &map.code {
            let words = words(code);
            for word in &words {
                check_word(word, &mut problems);
            }
            check_command(&words, &members, &features, &mut problems);
        }
        for link in map.links.iter().filter(|l| !l.contains("://")) {
            let target = link.split('#').next().unwrap_or_default();
            if !target.is_empty() && !root().join("docs").join(target).exists() {
                problems.insert(format!("{file}: broken link {link}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}
