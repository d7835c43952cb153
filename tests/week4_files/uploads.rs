//! Attachments over HTTP, the same tests on local disk and on S3 (`local::…`, `s3::…`):
//! upload and download byte for byte with the SHA-256 recorded; a disguised executable
//! refused (415); a hostile file name made harmless; the route's size limit (413);
//! `If-None-Match` (304), `Range` (206, 416); downloads never compressed; presigned URLs
//! on S3 only; another user sees nothing.

use sha2::{Digest, Sha256};

use crate::common::*;

/// A Windows executable's first bytes (the `MZ` header and a PE signature), padded.
fn exe_bytes() -> Vec<u8> {
    let mut exe = vec![0u8; 4096];
    exe[..2].copy_from_slice(b"MZ");
    exe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    exe[0x80..0x84].copy_from_slice(b"PE\0\0");
    exe
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::common::Store::local()).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::common::Store::S3).await;
                }
            )*
        }
    };
}

on_both_backends!(
    upload_then_download_byte_for_byte,
    an_exe_named_photo_png_is_415,
    a_path_in_the_file_name_is_harmless,
    over_the_limit_is_413_and_nothing_is_kept,
    conditional_and_partial_downloads,
    presigned_urls_on_s3_only,
    another_user_sees_nothing,
);

async fn upload_then_download_byte_for_byte(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    let content = text_bytes(3 * 1024 * 1024 + 17);

    let resp = upload(
        &ann,
        &note,
        "report 2026.txt",
        "text/plain",
        content.clone(),
    )
    .await;
    let created = json_ok(resp, StatusCode::CREATED).await;
    assert_eq!(created["filename"], "report 2026.txt");
    assert_eq!(
        created["content_type"], "application/octet-stream",
        "{created}"
    );
    assert_eq!(created["size"], content.len());
    assert_eq!(created["sha256"], format!("{:x}", Sha256::digest(&content)));
    assert_eq!(created["thumbnail_job"], Value::Null, "not an image");
    let id = created["id"].as_str().unwrap();

    let listed = listed(&ann, &note).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id);

    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    assert_eq!(
        one_header(&headers, header::ETAG),
        format!("\"{}\"", created["sha256"].as_str().unwrap())
    );
    assert_eq!(one_header(&headers, header::ACCEPT_RANGES), "bytes");
    assert_eq!(one_header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(
        one_header(&headers, header::CONTENT_LENGTH),
        content.len().to_string()
    );
    let disposition = one_header(&headers, header::CONTENT_DISPOSITION);
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("report%202026.txt"), "{disposition}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), content.as_slice());

    let resp = ann
        .delete(&format!("/api/notes/{note}/attachments/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = ann
        .get(&format!("/api/notes/{note}/attachments/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "not_found").await;
    if let Some(root) = store.root() {
        // The file goes in a background task: soon, not at once.
        eventually(
            "the stored file is deleted",
            std::time::Duration::from_secs(5),
            || {
                let root = root.clone();
                async move { files_under(&root).is_empty().then_some(()) }
            },
        )
        .await;
    }
}

async fn an_exe_named_photo_png_is_415(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    let resp = upload(&ann, &note, "photo.png", "image/png", exe_bytes()).await;
    let problem = assert_problem(resp, 415, "unsupported_media_type").await;
    let detail = problem.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("portable-executable"), "{}", problem.body);
    let listed = listed(&ann, &note).await;
    assert_eq!(listed, json!([]));
    if let Some(root) = store.root() {
        assert_eq!(files_under(&root), Vec::<String>::new());
    }
}

async fn a_path_in_the_file_name_is_harmless(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    // (Control characters cannot reach the app here: the multipart parser refuses them in
    // a part's header, 400. `sanitize_filename`'s unit tests cover them.)
    for name in ["../../etc/passwd", "..\\..\\windows\\win.ini", ".htaccess"] {
        let resp = upload(&ann, &note, name, "text/plain", text_bytes(100)).await;
        let created = json_ok(resp, StatusCode::CREATED).await;
        let stored = created["filename"].as_str().unwrap().to_owned();
        assert!(
            !stored.contains(['/', '\\'])
                && !stored.contains(char::is_control)
                && !stored.starts_with('.'),
            "{name:?} kept as {stored:?}"
        );
        let id = created["id"].as_str().unwrap();
        let resp = ann
            .get(&format!("/api/notes/{note}/attachments/{id}"))
            .send()
            .await
            .unwrap();
        let disposition = one_header(resp.headers(), header::CONTENT_DISPOSITION);
        assert!(!disposition.contains(".."), "{disposition}");
        assert!(!disposition.contains('/'), "{disposition}");
    }
    let listed = listed(&ann, &note).await;
    assert_eq!(listed[0]["filename"], "passwd");
    if let (Store::Local(dir), Some(root)) = (&store, store.root()) {
        // Everything written is under the root, under server-made names.
        let everything = files_under(dir.path());
        assert_eq!(everything.len(), 3, "{everything:?}");
        assert!(
            !everything.iter().any(|p| p.contains("htaccess")),
            "{everything:?}"
        );
        for path in &everything {
            assert!(
                std::path::Path::new(path).starts_with(&root),
                "{path} is outside {}",
                root.display()
            );
            assert!(
                !path.contains("passwd") && !path.contains("win.ini"),
                "{path}"
            );
        }
    }
}

async fn over_the_limit_is_413_and_nothing_is_kept(store: Store) {
    let (server, _db) = start_storing(&store, |s| s.attachments.max_size = 64 * 1024).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    // Just over the limit: refused while streaming (the envelope fits the body limit).
    let resp = upload(
        &ann,
        &note,
        "big.txt",
        "text/plain",
        text_bytes(64 * 1024 + 1),
    )
    .await;
    assert_problem(resp, 413, "payload_too_large").await;
    // Far over: refused by the route's body limit.
    let resp = upload(
        &ann,
        &note,
        "huge.txt",
        "text/plain",
        text_bytes(1024 * 1024),
    )
    .await;
    assert_problem(resp, 413, "payload_too_large").await;
    // At the limit: fine.
    let resp = upload(&ann, &note, "fits.txt", "text/plain", text_bytes(64 * 1024)).await;
    json_ok(resp, StatusCode::CREATED).await;
    let listed = listed(&ann, &note).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    if let Some(root) = store.root() {
        assert_eq!(files_under(&root).len(), 1);
    }
}

async fn conditional_and_partial_downloads(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8 + 1).collect();
    let mut content = content;
    content[..4].copy_from_slice(b"data");
    let created = json_ok(
        upload(
            &ann,
            &note,
            "data.bin",
            "application/octet-stream",
            content.clone(),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!(
        "/api/notes/{note}/attachments/{}",
        created["id"].as_str().unwrap()
    );
    let etag = format!("\"{}\"", created["sha256"].as_str().unwrap());

    let resp = ann
        .get(&path)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(one_header(resp.headers(), header::ETAG), etag);
    assert!(resp.bytes().await.unwrap().is_empty());

    let resp = ann
        .get(&path)
        .header(header::RANGE, "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        one_header(resp.headers(), header::CONTENT_RANGE),
        "bytes 100-199/1000"
    );
    assert_eq!(one_header(resp.headers(), header::CONTENT_LENGTH), "100");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &content[100..200]);

    let resp = ann
        .get(&path)
        .header(header::RANGE, "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        one_header(resp.headers(), header::CONTENT_RANGE),
        "bytes */1000"
    );

    // A browser's Accept-Encoding: the file still comes as its own bytes, not gzip.
    let resp = reqwest::Client::new()
        .get(server.url(&path))
        .bearer_auth(ann.bearer().unwrap())
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(resp.bytes().await.unwrap().as_ref(), content.as_slice());
}

async fn presigned_urls_on_s3_only(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let note = note(&ann, "files").await;
    let content = text_bytes(5000);
    let created = json_ok(
        upload(&ann, &note, "share.txt", "text/plain", content.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let path = format!(
        "/api/notes/{note}/attachments/{}/url",
        created["id"].as_str().unwrap()
    );
    let resp = ann.get(&path).send().await.unwrap();
    match store {
        Store::Local(_) => {
            assert_problem(resp, 409, "presign_unavailable").await;
        }
        Store::S3 => {
            let body = json_ok(resp, StatusCode::OK).await;
            let url = body["url"].as_str().unwrap();
            assert!(url.contains("X-Amz-Signature"), "{url}");
            // Anyone with the URL: no token, straight from S3.
            let direct = reqwest::get(url).await.unwrap();
            assert_eq!(direct.status(), StatusCode::OK);
            assert_eq!(direct.bytes().await.unwrap().as_ref(), content.as_slice());
        }
    }
}

async fn another_user_sees_nothing(store: Store) {
    let (server, _db) = start_storing(&store, |_| {}).await;
    let ann = user(&server).await;
    let bob = user(&server).await;
    let note = note(&ann, "ann's").await;
    let created = json_ok(
        upload(&ann, &note, "secret.txt", "text/plain", text_bytes(100)).await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap();
    for path in [
        format!("/api/notes/{note}/attachments"),
        format!("/api/notes/{note}/attachments/{id}"),
        format!("/api/notes/{note}/attachments/{id}/thumbnail"),
    ] {
        let resp = bob.get(&path).send().await.unwrap();
        assert_problem(resp, 404, "not_found").await;
    }
    let resp = upload(&bob, &note, "intruder.txt", "text/plain", text_bytes(10)).await;
    assert_problem(resp, 404, "not_found").await;
    let resp = bob
        .delete(&format!("/api/notes/{note}/attachments/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 404, "not_found").await;
}

/// Every file under `dir`, recursively (empty when `dir` does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path.display().to_string());
            }
        }
    }
    found.sort();
    found
}
