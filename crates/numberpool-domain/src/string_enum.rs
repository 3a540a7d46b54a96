//! The `string_enum!` declaration: enums whose every value is one fixed word, stored, shown and
//! parsed as that word. One table per enum, so its variants, its words, `ALL` and its parser
//! cannot drift apart.

/// Declares a snake_case string enum with `ALL`, `as_str`, `Display` and a `FromStr` whose
/// [`ParseEnumError`](crate::e164::ParseEnumError) names `$field` and the `$allowed` words.
///
/// `$matching` says how a word is recognised: [`loose`] for words people type (any case,
/// surrounding blanks ignored), [`exact`] for words only the application writes (a stored
/// status parses as written, so a row that differs is corrupt, not silently accepted). Without
/// `$allowed` and `$matching`, the words are listed as `$allowed` and matched loosely.
macro_rules! string_enum {
    (
        $(#[$m:meta])* $name:ident, $field:literal,
        { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }
    ) => {
        string_enum!($(#[$m])* $name, $field, concat!($($s, " "),+), loose,
            { $($(#[$vm])* $variant => $s),+ });
    };
    (
        $(#[$m:meta])* $name:ident, $field:literal, $allowed:expr, $matching:ident,
        { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: [$name; [$($s),+].len()] = [$($name::$variant),+];

            /// The word: what is stored, shown and parsed.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::e164::ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .into_iter()
                    .find(|v| $crate::string_enum::$matching(v.as_str(), s))
                    .ok_or_else(|| $crate::e164::ParseEnumError::new($field, s, $allowed))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A word as people type it: in any case, with blanks around it.
pub(crate) fn loose(word: &str, given: &str) -> bool {
    word.eq_ignore_ascii_case(given.trim())
}

/// A word only as written.
pub(crate) fn exact(word: &str, given: &str) -> bool {
    word == given
}
