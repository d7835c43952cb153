// A broken attribute is one error, not also one per use of the trait.
use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", index(text = ["titel"]))]
struct Note {
    title: String,
}

fn collection<T: MongoDocument>() -> &'static str {
    T::COLLECTION
}

fn main() {
    let _ = collection::<Note>();
    let _ = Note::indexes();
}
