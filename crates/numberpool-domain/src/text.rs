//! The one check on human-readable text: names (accounts, trunks, carriers, regions, attribute
//! values) and free-text fields. What is shown to an admin must be what is stored, so characters
//! that render as nothing or reorder what follows are refused everywhere, with the field named.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What kind of text a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: ordinary spaces only.
    Name,
    /// One line that may hold tabs (a pasted value): the number's billing reference, service
    /// info, call purpose and the like. Line breaks stay out, as they always have: these fields
    /// end up in single-line exports and log-like views.
    FreeText,
}

/// Whether `c` is invisible or changes how the text around it reads: a control character (Cc),
/// a format character (Cf: zero-width spaces and joiners, bidirectional overrides and isolates,
/// the byte-order mark, tags), a line or paragraph separator (Zl, Zp), or a noncharacter
/// (U+FDD0..U+FDEF and the last two code points of every plane, such as U+FFFF).
pub fn is_hidden(c: char) -> bool {
    let u = u32::from(c);
    if (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE {
        return true;
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
    )
}

/// Refuses hidden characters in `value`, naming `field` and the first offending code point.
/// Free text keeps tabs; a name keeps only ordinary spaces.
pub fn check_visible(field: &str, value: &str, kind: TextKind) -> Result<(), String> {
    let allowed = |c: char| kind == TextKind::FreeText && c == '\t';
    match value.chars().find(|&c| is_hidden(c) && !allowed(c)) {
        None => Ok(()),
        Some(c) => Err(format!(
            "{field} contains an invisible or control character (U+{:04X}); use printable characters",
            u32::from(c)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_refused_in_names() {
        for bad in [
            "\u{200b}",
            "\u{202e}\u{202d}abc",
            "\u{ffff}",
            "a\u{0}b",
            "a\nb",
            "\u{feff}x",
            "x\u{2066}",
            "x\u{2028}",
            "\u{fdd0}",
            "\u{1fffe}",
            "\u{e0041}",
            "\u{ad}",
        ] {
            let e = check_visible("name", bad, TextKind::Name);
            assert!(
                e.as_ref().is_err_and(|m| m.starts_with("name ")),
                "{bad:?}: {e:?}"
            );
        }
        for good in [
            "Acme Ltd",
            "Zürich Süd",
            "東京",
            "café ☕",
            "a\u{a0}b",
            "שלום",
        ] {
            assert_eq!(
                check_visible("name", good, TextKind::Name),
                Ok(()),
                "{good:?}"
            );
        }
    }

    #[test]
    fn free_text_keeps_tabs_only() {
        assert_eq!(
            check_visible("note", "col 1\tcol 2", TextKind::FreeText),
            Ok(())
        );
        assert!(check_visible("note", "line 1\nline 2", TextKind::FreeText).is_err());
        assert!(check_visible("note", "a\u{200b}", TextKind::FreeText).is_err());
        assert!(check_visible("note", "a\u{7}", TextKind::FreeText).is_err());
        assert!(check_visible("name", "a\tb", TextKind::Name).is_err());
    }
}
