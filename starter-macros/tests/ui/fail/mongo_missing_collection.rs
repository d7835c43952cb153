use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
struct Note {
    title: String,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(index(text = ["title"]))]
struct Draft {
    title: String,
}

fn main() {}
