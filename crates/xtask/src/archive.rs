//! Release archives: reproducible `.tar.gz` files holding only regular files, their sha256,
//! and reading them back (listing, unpacking) the way Krew does.

use anyhow::{Context as _, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Component, Path};

/// One file to put in an archive.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    /// Path inside the archive (`/`-separated, relative).
    pub path: String,
    /// Where the contents come from.
    pub source: Source,
    /// Mode 0755 when true, else 0644.
    pub executable: bool,
}

/// The contents of an [`ArchiveFile`].
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk, streamed (release binaries are large).
    File(std::path::PathBuf),
    /// Bytes in memory (the completion helpers).
    Bytes(Vec<u8>),
}

/// What an archive entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic or hard link: Krew's archives must not contain them.
    Link,
    /// Anything else (devices, fifos...).
    Other,
}

/// One entry of an archive, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, without a leading `./` or trailing `/`.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Whether any execute bit is set.
    pub executable: bool,
}

/// Writes a `.tar.gz` of `files`. The result depends only on the files' contents and order:
/// owner 0:0 without names, modes 0755/0644, modification time 0 (not `SOURCE_DATE_EPOCH`:
/// the sha256 committed in krew-manifests/ must come out of any build environment), and no
/// gzip timestamp or file name.
pub fn write_tar_gz(out: &Path, files: &[ArchiveFile], level: u32) -> anyhow::Result<()> {
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut builder = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::new(level)));
    for f in files {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(if f.executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match &f.source {
            Source::File(path) => {
                let input = File::open(path).with_context(|| format!("opening {}", path.display()))?;
                header.set_size(input.metadata()?.len());
                builder
                    .append_data(&mut header, &f.path, BufReader::new(input))
                    .with_context(|| format!("adding {} to {}", path.display(), out.display()))?;
            }
            Source::Bytes(bytes) => {
                header.set_size(bytes.len() as u64);
                builder
                    .append_data(&mut header, &f.path, bytes.as_slice())
                    .with_context(|| format!("adding {} to {}", f.path, out.display()))?;
            }
        }
    }
    let gz = builder.into_inner().with_context(|| format!("writing {}", out.display()))?;
    let mut writer = gz.finish().with_context(|| format!("writing {}", out.display()))?;
    std::io::Write::flush(&mut writer).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

/// The sha256 of a file, as Krew writes it: 64 lowercase hex digits.
pub fn sha256_hex(path: &Path) -> anyhow::Result<String> {
    let mut input = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = input.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    Ok(ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

fn open(path: &Path) -> anyhow::Result<tar::Archive<GzDecoder<BufReader<File>>>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(tar::Archive::new(GzDecoder::new(BufReader::new(file))))
}

/// Lists the entries of a `.tar.gz`.
pub fn entries(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let mut archive = open(path)?;
    let mut out = Vec::new();
    for entry in archive.entries().with_context(|| format!("reading {}", path.display()))? {
        let entry = entry.with_context(|| format!("reading {}", path.display()))?;
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink | tar::EntryType::Link => EntryKind::Link,
            _ => EntryKind::Other,
        };
        let name = entry.path().with_context(|| format!("reading {}", path.display()))?;
        let name = name.to_string_lossy();
        let name = name.trim_start_matches("./").trim_end_matches('/').to_string();
        let executable = header.mode().map(|m| m & 0o111 != 0).unwrap_or(false);
        out.push(Entry { path: name, kind, executable });
    }
    Ok(out)
}

/// Unpacks a `.tar.gz` into `dest`, refusing links, special files and paths that leave `dest`.
pub fn unpack(path: &Path, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut archive = open(path)?;
    for entry in archive.entries().with_context(|| format!("reading {}", path.display()))? {
        let mut entry = entry.with_context(|| format!("reading {}", path.display()))?;
        let name = entry.path()?.into_owned();
        if name.components().any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_))) {
            bail!("{}: entry {} leaves the archive's directory", path.display(), name.display());
        }
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Directory => {}
            other => bail!("{}: entry {} is a {other:?}, not a file or directory", path.display(), name.display()),
        }
        entry.unpack_in(dest).with_context(|| format!("unpacking {} from {}", name.display(), path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path, name: &str) -> std::path::PathBuf {
        let out = dir.join(name);
        let files = [
            ArchiveFile { path: "kubectl-x".into(), source: Source::Bytes(b"#!/bin/sh\n".to_vec()), executable: true },
            ArchiveFile { path: "LICENSE".into(), source: Source::Bytes(b"text".to_vec()), executable: false },
        ];
        write_tar_gz(&out, &files, 6).unwrap();
        out
    }

    #[test]
    fn archives_are_reproducible_and_hold_only_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = sample(dir.path(), "a.tar.gz");
        let b = sample(dir.path(), "b.tar.gz");
        let sha = sha256_hex(&a).unwrap();
        assert_eq!(sha, sha256_hex(&b).unwrap(), "same contents, same checksum");
        assert_eq!(sha.len(), 64);
        assert!(sha.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        let listed = entries(&a).unwrap();
        assert_eq!(
            listed,
            [
                Entry { path: "kubectl-x".into(), kind: EntryKind::File, executable: true },
                Entry { path: "LICENSE".into(), kind: EntryKind::File, executable: false },
            ]
        );
        let out = dir.path().join("out");
        unpack(&a, &out).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("LICENSE")).unwrap(), "text");
    }

    #[test]
    fn sha256_matches_the_known_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, "abc").unwrap();
        assert_eq!(sha256_hex(&path).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
