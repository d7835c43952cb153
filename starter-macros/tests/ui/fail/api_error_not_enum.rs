use starter_core::IntoApiError;

#[derive(Debug, thiserror::Error, IntoApiError)]
#[error("oops")]
struct Oops;

#[derive(IntoApiError)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
