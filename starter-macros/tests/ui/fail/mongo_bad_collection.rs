use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "")]
struct Empty {
    title: String,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes$v2")]
struct Dollar {
    title: String,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "system.users")]
struct System {
    title: String,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = notes)]
struct NotAString {
    title: String,
}

fn main() {}
