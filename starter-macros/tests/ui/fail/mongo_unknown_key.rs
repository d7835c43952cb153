use serde::{Deserialize, Serialize};
use starter_mongo::MongoDocument;

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(colection = "notes")]
struct Typo {
    #[mongo(uniqe)]
    email: String,
    #[mongo(index(desc))]
    created_at: i64,
}

#[derive(Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "notes", unique, table = "x")]
#[mongo(index(asc = "email", uniq), index(desc = "email", ttl = "1d"))]
struct Misplaced {
    #[mongo(collection = "notes", text)]
    email: String,
    #[mongo(index = newest, ttl = "30x")]
    created_at: i64,
    #[mongo(unique = true, ttl = 3000000000)]
    expires_at: i64,
}

fn main() {}
