//! Pure domain logic: no I/O, no framework types. Calendar arithmetic, the deadline rules,
//! the statutory workflow (stages, events, who records what) and the roles.

pub mod calendar;
pub mod case;
pub mod deadlines;
pub mod documents;
pub mod events;
pub mod governance;
pub mod ical;
pub mod input;
pub mod passwords;
pub mod reminders;
pub mod replay;
pub mod roles;
pub mod rules;
pub mod themes;
pub mod workflow;

/// A closed set of text codes (see [`text_enum!`]).
pub trait TextEnum: Sized + Copy + std::str::FromStr<Err = String> + 'static {
    /// The accepted codes, comma-separated.
    fn choices() -> String;
}

/// Declares a closed set of text codes: `as_str`, `label`, `ALL`, `FromStr` (whose error lists
/// the accepted codes) and serde as the code. Used for every enum stored as text.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stored and wire code.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// A label for people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
            /// The accepted codes, comma-separated (for error messages).
            pub fn choices() -> String {
                [$($code),+].join(", ")
            }
        }

        impl $crate::domain::TextEnum for $name {
            fn choices() -> String {
                $name::choices()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(format!("{:?} is not one of {}", s, $name::choices())),
                }
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn schema_id() -> std::borrow::Cow<'static, str> {
                concat!(module_path!(), "::", stringify!($name)).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "enum": [$($code),+],
                    "description": concat!($($code, ": ", $label, "; "),+),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
