//! Reads the paths a Rust source file names inside its own crate, from its tokens rather than
//! its text: `use` trees (grouped, nested, `pub use`, over several lines), and inline
//! `crate::…`, `super::…` and `self::…` paths in code, each resolved to a path from the crate
//! root. Comments, doc comments and string literals are skipped, so a doc link or a message
//! naming a module is not an import.

/// One path into the crate, resolved from its root, and the line it is written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CratePath {
    pub line: usize,
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub line: usize,
    pub text: String,
}

/// The module path of a file under `src/`: `rules/load/value.rs` is `rules::load::value`,
/// `queue/mod.rs` is `queue`, `lib.rs` is the root.
pub fn module_of(relative: &str) -> Vec<String> {
    let trimmed = relative.strip_suffix(".rs").unwrap_or(relative);
    let mut segments: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    if matches!(
        segments.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segments.pop();
    }
    segments
}

/// Every path into the crate that `source` (the file of module `module`) names.
pub fn crate_paths(module: &[String], source: &str) -> Vec<CratePath> {
    let tokens = tokenize(source);
    let mut out = Vec::new();
    // Inline `mod name { … }` blocks: `super::` inside one is relative to it.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let here = |inline: &[(String, usize)]| -> Vec<String> {
            let mut m = module.to_vec();
            m.extend(inline.iter().map(|(name, _)| name.clone()));
            m
        };
        match tokens[i].text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" if tokens.get(i + 2).is_some_and(|t| t.text == "{") => {
                inline.push((tokens[i + 1].text.clone(), depth));
                depth += 1;
                i += 3;
                continue;
            }
            "use" => {
                let end = (i..tokens.len())
                    .find(|&j| tokens[j].text == ";")
                    .unwrap_or(tokens.len());
                let mut paths = Vec::new();
                use_tree(&tokens[i + 1..end], &mut Vec::new(), &mut paths);
                let current = here(&inline);
                for (line, path) in paths {
                    if let Some(segments) = resolve(&current, &path) {
                        out.push(CratePath { line, segments });
                    }
                }
                i = end + 1;
                continue;
            }
            "crate" | "super" | "self"
                if tokens.get(i + 1).is_some_and(|t| t.text == "::")
                    && !tokens[i.saturating_sub(1)..i]
                        .iter()
                        .any(|t| t.text == "::") =>
            {
                let line = tokens[i].line;
                let mut path = vec![tokens[i].text.clone()];
                let mut j = i + 1;
                while tokens.get(j).is_some_and(|t| t.text == "::")
                    && tokens.get(j + 1).is_some_and(|t| is_ident(&t.text))
                {
                    path.push(tokens[j + 1].text.clone());
                    j += 2;
                }
                if let Some(segments) = resolve(&here(&inline), &path) {
                    out.push(CratePath { line, segments });
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Flattens a use tree (`a::b::{c, d::{e, f as g}, *}`) into its paths, each with the line of
/// its last segment.
fn use_tree(tokens: &[Token], prefix: &mut Vec<String>, out: &mut Vec<(usize, Vec<String>)>) {
    let mut i = 0;
    let base = prefix.len();
    let mut line = tokens.first().map_or(0, |t| t.line);
    while i < tokens.len() {
        let t = &tokens[i];
        match t.text.as_str() {
            "::" => {}
            "{" => {
                let close = matching_brace(tokens, i);
                for item in split_top_level(&tokens[i + 1..close]) {
                    use_tree(item, prefix, out);
                }
                prefix.truncate(base);
                return;
            }
            "as" => {
                // `as name` renames the last segment; the path stays what it was.
                break;
            }
            "*" => break,
            text if is_ident(text) => {
                prefix.push(text.to_owned());
                line = t.line;
            }
            _ => {}
        }
        i += 1;
    }
    if !prefix.is_empty() {
        out.push((line, prefix.clone()));
    }
    prefix.truncate(base);
}

fn matching_brace(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The comma-separated items of a use group, ignoring commas in nested groups.
fn split_top_level(tokens: &[Token]) -> Vec<&[Token]> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (j, t) in tokens.iter().enumerate() {
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => depth -= 1,
            "," if depth == 0 => {
                items.push(&tokens[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    items.push(&tokens[start..]);
    items.retain(|item| !item.is_empty());
    items
}

/// `crate::a::b`, `super::a`, `self::a` from module `current` as a path from the crate root;
/// `None` for a path that starts elsewhere (an external crate, or a child named without
/// `self::`, which cannot leave the module).
fn resolve(current: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut segments = path.iter().peekable();
    let mut base = match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("self") => {
            segments.next();
            current.to_vec()
        }
        Some("super") => current.to_vec(),
        _ => return None,
    };
    while segments.peek().is_some_and(|s| *s == "super") {
        segments.next();
        base.pop()?;
    }
    // `use super::{self, …}` and `use crate::x::{self}` name the module itself.
    base.extend(segments.filter(|s| *s != "self").cloned());
    Some(base)
}

fn is_ident(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation, with their lines; comments, strings, chars and
/// lifetimes dropped.
pub fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let at = |j: usize| chars.get(j).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#: no escapes, ends at the quote and as many hashes.
            i += hashes.0;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes.1))
                .collect();
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                line += usize::from(chars[i] == '\n');
                i += 1;
            }
            i += closing.len();
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(at(i) == '\n');
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                // An escaped char: '\n', '\'', '\u{1F600}'.
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or a label: drop the quote, the name follows as an identifier.
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                line,
                text: chars[start..i].iter().collect(),
            });
        } else if c == ':' && at(i + 1) == ':' {
            tokens.push(Token {
                line,
                text: "::".to_owned(),
            });
            i += 2;
        } else {
            tokens.push(Token {
                line,
                text: c.to_string(),
            });
            i += 1;
        }
    }
    tokens
}

/// At a raw string's start, how many characters open it and how many hashes it uses.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    // Not the tail of an identifier such as `br` in `var"`.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some((j + 1 - i, hashes))
}
