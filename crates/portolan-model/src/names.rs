//! One name per enum variant, for `as_str`, `Display`, `FromStr` and serde alike.

/// A name that is not one of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{text}`")]
pub struct ParseError {
    /// What was being parsed (`reason`, `state`, ...).
    pub what: &'static str,
    /// The text that did not parse.
    pub text: String,
}

/// Gives a fieldless enum its names from one table: `ALL`, `as_str` (an exhaustive
/// `match`, so a new variant fails to compile until the table names it), `Display`,
/// `FromStr` and serde through those names.
macro_rules! names {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in the order of the names table.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name used in every report, the history and on the command line.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::names::ParseError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($name => Ok($ty::$variant),)+
                    _ => Err($crate::names::ParseError {
                        what: $what,
                        text: text.to_owned(),
                    }),
                }
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use names;
