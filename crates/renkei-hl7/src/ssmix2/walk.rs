//! Walking a standardized storage: `root/PID[0:3]/PID[3:6]/PID/診療日/データ種別/file`.
//!
//! The walk is lazy and never stops on a bad entry: every problem is one `Err` item naming the
//! path, and the walk goes on with the next entry. Entries are visited in name order so that
//! two walks of the same storage agree.
//!
//! Every file name is checked against every folder above it. A file whose name disagrees with
//! its folders is reported as [`StorageError::Misfiled`] and not yielded as a file: the folder
//! and the name each claim a patient, and guessing which is right risks filing records under
//! the wrong patient. A deleted (`_0`) file is a valid file; acting on the flag is the caller's
//! business.
//!
//! Error messages (`Display`) never contain the path, because SS-MIX2 paths contain patient
//! IDs; the path is in the error value ([`StorageError::path`]) for the people allowed to see it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::file_name::{FileName, FileNameError, LogicalKey};

/// One folder level of the storage layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FolderLevel {
    /// `PID[0:3]`, the first three characters of the patient ID.
    PatientPrefix,
    /// `PID[3:6]`, characters four to six of the patient ID.
    PatientSubPrefix,
    /// The patient ID.
    Patient,
    /// 診療日 (`YYYYMMDD` or `-`).
    Date,
    /// データ種別.
    DataKind,
}

impl FolderLevel {
    const ALL: [Self; 5] = [
        Self::PatientPrefix,
        Self::PatientSubPrefix,
        Self::Patient,
        Self::Date,
        Self::DataKind,
    ];
}

impl fmt::Display for FolderLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PatientPrefix => "patient ID prefix (characters 1-3)",
            Self::PatientSubPrefix => "patient ID prefix (characters 4-6)",
            Self::Patient => "patient ID",
            Self::Date => "date of care",
            Self::DataKind => "data kind",
        })
    }
}

/// A problem found while walking. Each names its path via [`StorageError::path`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A folder or file could not be read.
    #[error("cannot read a storage entry: {source}")]
    Io {
        /// The entry.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file name is not UTF-8, so it cannot be an SS-MIX2 name.
    #[error("file name is not valid UTF-8")]
    NonUtf8Name {
        /// The file.
        path: PathBuf,
    },
    /// The file name is not a valid SS-MIX2 name.
    #[error("invalid file name: {source}")]
    InvalidFileName {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: FileNameError,
    },
    /// The file name disagrees with the folders it is in.
    #[error("file name disagrees with its folder: {}", list(.levels))]
    Misfiled {
        /// The file.
        path: PathBuf,
        /// Every folder level that disagrees, outermost first.
        levels: Vec<FolderLevel>,
    },
    /// A file where only folders belong (above the data kind level).
    #[error("file found where a folder is expected")]
    UnexpectedFile {
        /// The file.
        path: PathBuf,
    },
    /// A folder inside a data kind folder, where only message files belong.
    #[error("folder found where message files are expected")]
    UnexpectedDirectory {
        /// The folder.
        path: PathBuf,
    },
}

fn list(levels: &[FolderLevel]) -> String {
    levels
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl StorageError {
    /// The file or folder the problem is about.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. }
            | Self::NonUtf8Name { path }
            | Self::InvalidFileName { path, .. }
            | Self::Misfiled { path, .. }
            | Self::UnexpectedFile { path }
            | Self::UnexpectedDirectory { path } => path,
        }
    }
}

/// One message file whose name agrees with its folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Its parsed name.
    pub name: FileName,
    /// Its logical key, from the name.
    pub key: LogicalKey,
}

impl StoredFile {
    /// Read the raw message bytes.
    ///
    /// # Errors
    /// Any I/O error from reading the file.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        fs::read(&self.path)
    }
}

/// Walk a storage from `root`, which may be the storage root or a patient folder
/// (`…/PID[0:3]/PID[3:6]/PID`, recognised when its own name and its two parents' names fit
/// that pattern). Use [`walk_storage`] or [`walk_patient`] to say which explicitly.
#[must_use]
pub fn walk(root: &Path) -> Walk {
    let names = patient_folder_names(root);
    if has_patient_shape(&names) {
        Walk::new(root, names.to_vec())
    } else {
        walk_storage(root)
    }
}

/// Walk a whole standardized storage whose root folder is `root`.
#[must_use]
pub fn walk_storage(root: &Path) -> Walk {
    Walk::new(root, Vec::new())
}

/// Walk one patient folder. Its name and its two parents' names (taken from the path, or from
/// its canonical form when the path does not have them) are checked against every file name.
#[must_use]
pub fn walk_patient(dir: &Path) -> Walk {
    Walk::new(dir, patient_folder_names(dir).to_vec())
}

/// The names of `dir`'s grandparent, parent and `dir` itself.
fn patient_folder_names(dir: &Path) -> [Option<OsString>; 3] {
    let names = |dir: &Path| {
        let parent = dir.parent();
        let grandparent = parent.and_then(Path::parent);
        [grandparent, parent, Some(dir)]
            .map(|p| p.and_then(Path::file_name).map(OsStr::to_os_string))
    };
    let given = names(dir);
    if given.iter().all(Option::is_some) {
        return given;
    }
    fs::canonicalize(dir).map_or(given, |c| names(&c))
}

fn has_patient_shape(names: &[Option<OsString>; 3]) -> bool {
    let [Some(prefix), Some(sub), Some(patient)] = names else {
        return false;
    };
    let Some(patient) = patient.to_str() else {
        return false;
    };
    patient.get(0..3).map(OsStr::new) == Some(prefix.as_os_str())
        && patient.get(3..6).map(OsStr::new) == Some(sub.as_os_str())
}

/// The lazy iterator returned by [`walk`].
#[derive(Debug)]
pub struct Walk {
    stack: Vec<Frame>,
    pending: Option<StorageError>,
}

#[derive(Debug)]
struct Frame {
    /// Names of the folders from the patient prefix down to this one; `None` when unknown.
    context: Vec<Option<OsString>>,
    entries: std::vec::IntoIter<PathBuf>,
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
    let io_error = |source| StorageError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir)
        .map_err(io_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_error)?;
    entries.sort();
    Ok(entries)
}

impl Walk {
    fn new(root: &Path, context: Vec<Option<OsString>>) -> Self {
        match sorted_entries(root) {
            Ok(entries) => Self {
                stack: vec![Frame {
                    context,
                    entries: entries.into_iter(),
                }],
                pending: None,
            },
            Err(e) => Self {
                stack: Vec::new(),
                pending: Some(e),
            },
        }
    }

    fn check_file(path: PathBuf, context: &[Option<OsString>]) -> Result<StoredFile, StorageError> {
        let Some(text) = path.file_name().and_then(OsStr::to_str) else {
            return Err(StorageError::NonUtf8Name { path });
        };
        let name = match FileName::parse(text) {
            Ok(name) => name,
            Err(source) => return Err(StorageError::InvalidFileName { path, source }),
        };
        let id = name.patient_id();
        let date = name.date_folder();
        let expected = [
            id.get(0..3),
            id.get(3..6),
            Some(id),
            Some(date.as_str()),
            Some(name.kind().as_str()),
        ];
        let levels: Vec<FolderLevel> = FolderLevel::ALL
            .into_iter()
            .zip(expected)
            .zip(context)
            .filter_map(|((level, expected), folder)| {
                let folder = folder.as_deref()?;
                (expected.map(OsStr::new) != Some(folder)).then_some(level)
            })
            .collect();
        if !levels.is_empty() {
            return Err(StorageError::Misfiled { path, levels });
        }
        let key = name.logical_key();
        Ok(StoredFile { path, name, key })
    }
}

impl Iterator for Walk {
    type Item = Result<StoredFile, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        loop {
            let frame = self.stack.last_mut()?;
            let Some(path) = frame.entries.next() else {
                self.stack.pop();
                continue;
            };
            let context = frame.context.clone();
            let metadata = match fs::metadata(&path) {
                Ok(m) => m,
                Err(source) => return Some(Err(StorageError::Io { path, source })),
            };
            let at_kind_folder = context.len() >= FolderLevel::ALL.len();
            match (metadata.is_dir(), at_kind_folder) {
                (true, false) => {
                    let mut context = context;
                    context.push(path.file_name().map(OsStr::to_os_string));
                    match sorted_entries(&path) {
                        Ok(entries) => self.stack.push(Frame {
                            context,
                            entries: entries.into_iter(),
                        }),
                        Err(e) => return Some(Err(e)),
                    }
                }
                (true, true) => return Some(Err(StorageError::UnexpectedDirectory { path })),
                (false, false) => return Some(Err(StorageError::UnexpectedFile { path })),
                (false, true) => return Some(Self::check_file(path, &context)),
            }
        }
    }
}
