//! The messages of a mailbox: records in `voicemail_messages`, each with
//! its WAV file in `<data>/voicemail/<workspace>/`.

use std::path::{Path, PathBuf};

use store::schema::VOICEMAIL_MESSAGES;
use store::{Db, Filter, Key, Millis, Query, Record, Scope, StoreError, Value};

/// A message's status before it is heard.
pub const NEW: &str = "NEW";
/// A message's status once heard and kept.
pub const SAVED: &str = "SAVED";

/// The folder of workspace `workspace_id`'s messages under `data_dir`.
pub fn folder(data_dir: &Path, workspace_id: i64) -> PathBuf {
    data_dir.join("voicemail").join(workspace_id.to_string())
}

/// A message to keep.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// The mailbox's agent.
    pub agent_id: i64,
    /// The caller's number.
    pub caller: String,
    /// The caller's name, if it gave one.
    pub caller_name: String,
    /// The call that left it.
    pub call_ref: String,
    /// Its length.
    pub duration_ms: i64,
    /// Its size in bytes.
    pub size: i64,
    /// Its file name (in the workspace's folder).
    pub file: String,
}

/// The messages of agent `agent_id`, oldest first.
pub async fn list(db: &Db, workspace_id: i64, agent_id: i64) -> Result<Vec<Record>, StoreError> {
    let query = Query { filters: vec![Filter::eq("agent_id", agent_id)], ..Query::default() };
    Ok(db.list(&VOICEMAIL_MESSAGES, Scope::Workspace(workspace_id), &query).await?.records)
}

/// How many messages agent `agent_id` has: (new, saved).
pub async fn counts(db: &Db, workspace_id: i64, agent_id: i64) -> Result<(u64, u64), StoreError> {
    let all = list(db, workspace_id, agent_id).await?;
    let new = all.iter().filter(|m| is_new(m)).count() as u64;
    Ok((new, all.len() as u64 - new))
}

/// Whether `message` was not heard yet.
pub fn is_new(message: &Record) -> bool {
    matches!(message.text("status"), NEW | "")
}

/// Keeps `message`.
pub async fn add(db: &Db, workspace_id: i64, message: NewMessage, now: Millis) -> Result<Record, StoreError> {
    let values = vec![
        ("agent_id", Value::Int(message.agent_id)),
        ("caller", Value::from(message.caller.as_str())),
        ("caller_name", Value::from(message.caller_name.as_str())),
        ("call_ref", Value::from(message.call_ref.as_str())),
        ("duration_ms", Value::Int(message.duration_ms)),
        ("size", Value::Int(message.size)),
        ("file", Value::from(message.file.as_str())),
        ("status", Value::from(NEW)),
    ];
    db.insert(&VOICEMAIL_MESSAGES, Scope::Workspace(workspace_id), values, now).await
}

/// Marks message `id` heard and kept.
pub async fn save(db: &Db, workspace_id: i64, id: i64, now: Millis) -> Result<(), StoreError> {
    let values = vec![("status", Value::from(SAVED))];
    db.update(&VOICEMAIL_MESSAGES, Scope::Workspace(workspace_id), &Key::Id(id), values, now).await?;
    Ok(())
}

/// Deletes message `key` and its file (a file already gone is no error);
/// the deleted record.
pub async fn remove(db: &Db, data_dir: &Path, workspace_id: i64, key: &Key) -> Result<Record, StoreError> {
    let gone = db.delete(&VOICEMAIL_MESSAGES, Scope::Workspace(workspace_id), key).await?;
    let path = file_path(data_dir, workspace_id, &gone);
    if let Some(path) = path {
        if let Err(e) = std::fs::remove_file(&path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, path = %path.display(), "a voicemail file could not be removed");
            }
        }
    }
    Ok(gone)
}

/// Where message `message`'s WAV is; `None` when its stored name is not
/// a plain file name.
pub fn file_path(data_dir: &Path, workspace_id: i64, message: &Record) -> Option<PathBuf> {
    let name = message.text("file");
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.chars().any(|c| matches!(c, '/' | '\\' | ':' | '\0') || c.is_control());
    plain.then(|| folder(data_dir, workspace_id).join(name))
}
