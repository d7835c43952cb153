use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "shapes")]
enum Shape {
    Circle { r: f64 },
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "pairs")]
struct Pair(String, i32);

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "marker")]
struct Marker;

fn main() {}
