//! Resolution of a guest path against the preopened directories, as WASI programs do it.
//!
//! A path and every preopen name are read as components with `.` and empty components
//! dropped; a relative path counts from the root (a WASI program's working directory).
//! The preopen whose components are the longest prefix of the path's wins, and the rest of
//! the path is opened relative to it. `..` is left to the host, which refuses any escape.

/// Splits `path` into its meaningful components.
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// Returns the index of the preopen that holds `path` and the path relative to it.
pub fn resolve(preopen_names: &[&str], path: &str) -> Option<(usize, String)> {
    let wanted = components(path);
    preopen_names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            let prefix = components(name);
            wanted.starts_with(&prefix).then_some((index, prefix.len()))
        })
        .max_by_key(|(_, matched)| *matched)
        .map(|(index, matched)| (index, wanted[matched..].join("/")))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn a_dot_preopen_holds_relative_and_absolute_paths() {
        assert_eq!(resolve(&["."], "db.bin"), Some((0, "db.bin".into())));
        assert_eq!(
            resolve(&["."], "./sub/db.bin"),
            Some((0, "sub/db.bin".into()))
        );
        assert_eq!(resolve(&["/"], "/db.bin"), Some((0, "db.bin".into())));
    }

    #[test]
    fn the_longest_matching_preopen_wins() {
        let names = [".", "/data", "/data/deep"];
        assert_eq!(resolve(&names, "/data/deep/x"), Some((2, "x".into())));
        assert_eq!(resolve(&names, "data/y"), Some((1, "y".into())));
        assert_eq!(resolve(&names, "other/z"), Some((0, "other/z".into())));
    }

    #[test]
    fn a_path_outside_every_preopen_is_not_resolved() {
        assert_eq!(resolve(&["/data"], "/elsewhere/db.bin"), None);
        assert_eq!(resolve(&["/data"], "/database"), None);
        assert_eq!(resolve(&[], "db.bin"), None);
    }

    #[test]
    fn the_preopen_itself_resolves_to_an_empty_remainder() {
        assert_eq!(resolve(&["/data"], "/data/"), Some((0, String::new())));
    }
}
