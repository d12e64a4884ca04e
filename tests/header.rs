//! `include/zmq.h` is generated, and this test keeps it that way.
//!
//! The header comes from cbindgen, run on the crate's C-facing sources (`src/constants.rs`,
//! `src/error.rs` and `src/ffi/`) with `cbindgen.toml`. Functions of libzmq's API that no Rust
//! `extern "C"` function provides yet are declared from `header/api-stable.h` and
//! `header/api-draft.h`, in the trailer; as soon as the Rust function exists, its prototype is
//! cbindgen's. The test regenerates the header in memory and fails when the checked-in file
//! differs. To regenerate it:
//!
//! ```text
//! ZMQ_BLESS=1 cargo test --test header
//! ```
//!
//! Whether the header matches libzmq's contract (names, values, prototypes) is checked by
//! `capi-tests/check-header.sh`.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

/// The guard cbindgen writes around every item of the draft API (see `[defines]`).
const DRAFT_IF: &str = "#if defined(ZMQ_BUILD_DRAFT_API)\n";

/// The callback types of the API (function types in C, written by hand in `cbindgen.toml`).
const CALLBACKS: [&str; 3] = ["zmq_free_fn", "zmq_timer_fn", "zmq_thread_fn"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One prototype of an API list: the function's name, its C declaration, and the
/// preprocessor condition it is declared under, if any.
struct Prototype {
    name: String,
    decl: String,
    guard: Option<String>,
}

/// Reads one of the `header/api-*.h` lists: every line that ends with `);` is a prototype; a
/// `#if` line right before one is that prototype's condition (its `#endif` follows it).
fn api_list(file: &str) -> Vec<Prototype> {
    let path = root().join(file);
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut guard = None;
    text.lines()
        .map(str::trim)
        .filter_map(|l| {
            if l.starts_with("#if ") {
                guard = Some(l.to_string());
                return None;
            }
            if !l.ends_with(");") {
                if l != "#endif" {
                    guard = None;
                }
                return None;
            }
            Some((l, guard.take()))
        })
        .map(|(l, guard)| {
            let open = l
                .find('(')
                .unwrap_or_else(|| panic!("{file}: no '(' in {l:?}"));
            let name = l[..open]
                .rsplit([' ', '*'])
                .next()
                .unwrap_or_default()
                .to_string();
            assert!(name.starts_with("zmq_"), "{file}: odd prototype {l:?}");
            Prototype {
                name,
                decl: l.to_string(),
                guard,
            }
        })
        .collect()
}

/// A prototype as the header declares it, under its condition if it has one.
fn declaration(p: &Prototype) -> String {
    match &p.guard {
        Some(cond) => format!("{cond}\nZMQ_EXPORT {}\n#endif\n", p.decl),
        None => format!("ZMQ_EXPORT {}\n", p.decl),
    }
}

/// Runs cbindgen on the crate's C-facing sources with `config`.
fn bindings(config: cbindgen::Config) -> cbindgen::Bindings {
    let src = root().join("src");
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(src.join("constants.rs"))
        .with_src(src.join("error.rs"))
        .with_src(src.join("ffi").join("mod.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen failed: {e}"))
}

/// The trailer part that declares the API functions cbindgen did not emit.
fn fallback_block(stable: &[&Prototype], draft: &[&Prototype]) -> String {
    if stable.is_empty() && draft.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n/* Functions of the API whose prototypes do not come from cbindgen yet \
         (header/api-*.h). */\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n",
    );
    for p in stable {
        out += &declaration(p);
    }
    if !draft.is_empty() {
        out += "#ifdef ZMQ_BUILD_DRAFT_API\n";
        for p in draft {
            out += &declaration(p);
        }
        out += "#endif /* ZMQ_BUILD_DRAFT_API */\n";
    }
    out += "#ifdef __cplusplus\n}\n#endif\n";
    out
}

/// cbindgen guards each draft item on its own; runs of them become one guarded block.
fn merge_draft_guards(text: &str) -> String {
    let closing = format!("#endif\n\n{DRAFT_IF}");
    let merged = text.replace(&closing, "\n");
    // A draft function is separated from the next one by a single newline.
    merged.replace(&format!("#endif\n{DRAFT_IF}"), "")
}

/// The prototypes of `list` whose functions cbindgen did not emit.
fn missing<'a>(list: &'a [Prototype], emitted: &BTreeSet<String>) -> Vec<&'a Prototype> {
    list.iter().filter(|p| !emitted.contains(&p.name)).collect()
}

/// The C callback types (`zmq_free_fn`, ...) are function types, written by hand in
/// `cbindgen.toml`; in Rust they are function pointers, and a nullable one is
/// `Option<zmq_free_fn>`, which cbindgen cannot see through (it declares an opaque
/// `struct Option_zmq_free_fn`). In C that parameter is `zmq_free_fn *`, as in libzmq.
fn fix_optional_callbacks(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("typedef struct Option_zmq_") && line.ends_with("_fn;") {
            if lines.peek() == Some(&"") {
                lines.next();
            }
            continue;
        }
        let mut line = line.to_string();
        for callback in CALLBACKS {
            line = line.replace(
                &format!("struct Option_{callback} "),
                &format!("{callback} *"),
            );
        }
        out += &line;
        out.push('\n');
    }
    out
}

/// cbindgen separates every constant by a blank line; a run of `#define`s becomes one block.
fn tighten_defines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        let between_defines = line.is_empty()
            && i > 0
            && lines[i - 1].starts_with("#define ")
            && !lines[i - 1].ends_with('\\')
            && lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("#define "));
        if !between_defines {
            out += line;
            out.push('\n');
        }
    }
    out
}

/// Generates `include/zmq.h` in memory.
fn generate() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));

    // First pass: which functions does the Rust code provide?
    let emitted: BTreeSet<String> = bindings(config.clone())
        .functions
        .iter()
        .map(|f| f.path.name().to_string())
        .collect();

    let stable = api_list("header/api-stable.h");
    let draft = api_list("header/api-draft.h");
    let known: BTreeSet<&str> = stable
        .iter()
        .chain(&draft)
        .map(|p| p.name.as_str())
        .collect();
    let strays: Vec<&String> = emitted
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .collect();
    assert!(
        strays.is_empty(),
        "cbindgen emits functions that are not in libzmq's API (header/api-*.h): {strays:?}"
    );
    let missing_stable = missing(&stable, &emitted);
    let missing_draft = missing(&draft, &emitted);

    // Second pass: the same, with the missing prototypes in the trailer.
    let mut config = config;
    config.trailer = Some(format!(
        "{}{}",
        fallback_block(&missing_stable, &missing_draft),
        config.trailer.take().unwrap_or_default()
    ));
    let mut out = Vec::new();
    bindings(config).write(&mut out);
    let text = String::from_utf8(out).expect("cbindgen wrote UTF-8");
    let text = tighten_defines(&merge_draft_guards(&fix_optional_callbacks(&text)));
    assert!(
        !text.contains("Option_"),
        "cbindgen wrote an Option<...> it could not translate; see fix_optional_callbacks"
    );
    text
}

fn header_path() -> PathBuf {
    root().join("include").join("zmq.h")
}

#[test]
fn header_is_up_to_date() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("ZMQ_BLESS").is_some_and(|v| v == "1") {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let first = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(fresh.lines().count()));
        panic!(
            "{} is stale (first difference at line {}).\n\
             Regenerate it with:  ZMQ_BLESS=1 cargo test --test header\n\
             then check it with:  bash capi-tests/check-header.sh",
            path.display(),
            first + 1
        );
    }
}

#[test]
fn api_lists_name_each_function_once() {
    let mut seen = BTreeSet::new();
    for file in ["header/api-stable.h", "header/api-draft.h"] {
        for p in api_list(file) {
            assert!(seen.insert(p.name.clone()), "{} listed twice", p.name);
        }
    }
    // libzmq 4.3.5 exports 70 stable functions.
    assert_eq!(api_list("header/api-stable.h").len(), 70);
}

#[test]
fn define_runs_tighten() {
    let text = "#define A 1\n\n#define B 2\n\n/* x */\n#define C 3\n\n\n#define D 4\n";
    assert_eq!(
        tighten_defines(text),
        "#define A 1\n#define B 2\n\n/* x */\n#define C 3\n\n\n#define D 4\n"
    );
}

#[test]
fn optional_callbacks_become_pointers() {
    let text = "typedef struct Option_zmq_free_fn Option_zmq_free_fn;\n\nint f(struct Option_zmq_free_fn ffn,\n      struct Option_zmq_timer_fn t);\n";
    assert_eq!(
        fix_optional_callbacks(text),
        "int f(zmq_free_fn *ffn,\n      zmq_timer_fn *t);\n"
    );
}

#[test]
fn draft_guards_merge() {
    let text = format!("a\n{DRAFT_IF}x\n#endif\n\n{DRAFT_IF}y\n#endif\n{DRAFT_IF}z\n#endif\n");
    assert_eq!(
        merge_draft_guards(&text),
        format!("a\n{DRAFT_IF}x\n\ny\nz\n#endif\n")
    );
}
