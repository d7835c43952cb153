use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
#[serde(rename_all = "camelCase")]
#[mongo(collection = "notes", index(text = ["title", "body"]))]
#[mongo(index(desc = "created_at"))]
#[mongo(index(asc = "cache"))]
struct Note {
    title: String,
    content: String,
    created_at: i64,
    #[serde(skip)]
    cache: String,
    #[serde(skip_serializing)]
    #[mongo(index)]
    secret: String,
}

fn main() {}
