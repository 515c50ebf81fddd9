//! The demo pipeline: a facility, a vendor, a bundle, an approval and an
//! install, all real, into one directory. `berth demo` runs it.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};

use crate::bundle::pack::{self, DEFAULT_CHUNK_SIZE, PackSpec};
use crate::device::clock::SystemClock;
use crate::domain::{BundleId, ContentType, FacilityId, GroupId, TabletModel, VendorId};
use crate::facility::{self, Facility};
use crate::install::{DataDir, Outcome};
use crate::sync::FileSource;
use crate::tablet::{Tablet, TabletOptions};
use crate::trust::SigningKey;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Facility(#[from] facility::Error),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::Error),
    #[error(transparent)]
    Install(#[from] crate::install::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error("demo document: {0}")]
    Document(String),
    #[error("writing the demo log: {0}")]
    Output(#[from] std::io::Error),
}

pub const DEMO_FACILITY: &str = "demo-facility";
pub const DEMO_VENDOR: &str = "open-learning";
pub const DEMO_BUNDLE: &str = "open-learning.reading-basics";

/// The demo's bundles: (directory under assets/demo, type, id, title).
pub const DEMO_BUNDLES: [(&str, ContentType, &str, &str); 3] = [
    (
        "course",
        ContentType::Education,
        DEMO_BUNDLE,
        "Reading Basics / Lectura básica",
    ),
    (
        "books",
        ContentType::Books,
        "open-learning.public-domain-books",
        "Public-domain books",
    ),
    (
        "music",
        ContentType::Music,
        "open-learning.open-air",
        "Open Air",
    ),
];

/// The demo album's vendor-neutral id (assets/demo/music/album.json).
pub const DEMO_ALBUM: &str = "berth-open-air-0001";

/// Where the demo keeps each party's files.
pub struct DemoPaths {
    pub facility: PathBuf,
    pub vendor: PathBuf,
    pub bundles: PathBuf,
    pub tablet: PathBuf,
    /// The dock's data directory (`berth-dock serve --data`).
    pub dock: PathBuf,
}

impl DemoPaths {
    pub fn new(dir: &Path) -> Self {
        DemoPaths {
            facility: dir.join("facility"),
            vendor: dir.join("vendor"),
            bundles: dir.join("bundles"),
            tablet: dir.join("tablet"),
            dock: dir.join("dock"),
        }
    }
}

/// Run the pipeline, printing each step to `out`.
pub fn run(dir: &Path, assets: &Path, out: &mut dyn Write) -> Result<Vec<Outcome>, Error> {
    run_at(dir, assets, out, Utc::now(), Box::new(SystemClock))
}

/// The pipeline at a given time and tablet clock (fixed ones make the
/// headless screenshots reproducible).
pub fn run_at(
    dir: &Path,
    assets: &Path,
    out: &mut dyn Write,
    now: chrono::DateTime<Utc>,
    clock: Box<dyn crate::device::clock::ClockSource>,
) -> Result<Vec<Outcome>, Error> {
    let p = DemoPaths::new(dir);
    for d in [&p.vendor, &p.bundles] {
        std::fs::create_dir_all(d).map_err(Error::Output)?;
    }

    // 1. Facility.
    let facility = if Facility::root_path(&p.facility).exists() {
        let f = Facility::open(&p.facility)?;
        writeln!(
            out,
            "1. facility  {} (root version {}) already set up in {}",
            f.root().doc().facility,
            f.root().doc().version,
            p.facility.display()
        )?;
        f
    } else {
        let f = Facility::init(
            &p.facility,
            FacilityId::parse(DEMO_FACILITY).expect("valid id"),
            now + Duration::days(365),
        )?;
        writeln!(
            out,
            "1. facility  created {DEMO_FACILITY}: root keys 2-of-3, approval, policy, roster, contacts, messaging and dock keys in {}",
            p.facility.display()
        )?;
        f
    };

    // 2. Vendor key and delegation.
    let key_path = p.vendor.join("vendor.pk8");
    let delegation_path = p.vendor.join("delegation.json");
    let vendor_key = if key_path.exists() {
        SigningKey::load(&key_path)?
    } else {
        SigningKey::generate_to_file(&key_path)?
    };
    // A delegation from before music joined the demo is replaced.
    let delegated_all = std::fs::read_to_string(&delegation_path)
        .ok()
        .and_then(|b| facility.root().verify_delegation(b.as_bytes(), now).ok())
        .is_some_and(|d| d.content_types.contains(&ContentType::Music));
    if !delegated_all {
        let d = facility.delegate(
            VendorId::parse(DEMO_VENDOR).expect("valid id"),
            vendor_key.public(),
            vec![
                ContentType::Education,
                ContentType::Books,
                ContentType::Music,
            ],
            64 * 1024 * 1024,
            now + Duration::days(180),
            now,
        )?;
        facility::write_atomic(&delegation_path, &d)?;
        writeln!(
            out,
            "2. vendor    {DEMO_VENDOR} key {} delegated education, books and music up to 64 MiB for 180 days",
            vendor_key.public()
        )?;
    } else {
        writeln!(
            out,
            "2. vendor    {DEMO_VENDOR} key {} already delegated",
            vendor_key.public()
        )?;
    }

    // 3. Pack (after checking each tree against its format), 4. approve.
    //    Reuse an approved bundle an earlier run made: packing again would
    //    sign new content under the same version.
    let (mut tablet, report) = Tablet::open(DataDir::new(&p.tablet), tablet_options(&p), clock)?;
    for o in &report.orphans_removed {
        writeln!(out, "   tablet    removed leftover {}", o.display())?;
    }
    let mut outcomes = Vec::new();
    for (dir, ct, id, title) in DEMO_BUNDLES {
        let name = id.rsplit('.').next().unwrap_or(id);
        let outcome = publish(
            &Publish {
                facility: &facility,
                vendor_key: &vendor_key,
                delegation: &delegation_path,
                bundles: &p.bundles,
                now,
            },
            &mut tablet,
            &assets.join(dir),
            (ct, id, title, name),
            out,
        )?;
        outcomes.push(outcome);
    }

    // 6. People and rules: the example roster and policy, signed and accepted.
    let examples = assets.parent().unwrap_or(assets).join("examples");
    let roster_src = examples.join("roster.toml");
    let policy_src = examples.join("policy.toml");
    let roster = p.bundles.join("roster.signed");
    let policy = p.bundles.join("policy.signed");
    let contacts = p.bundles.join("contacts.signed");
    if !contacts.exists() {
        let (env, _) = facility.sign_contacts(&examples.join("contacts.toml"), now)?;
        facility::write_atomic(&contacts, &env)?;
    }
    if !roster.exists() {
        let (env, _) = facility.sign_roster(&roster_src, now)?;
        facility::write_atomic(&roster, &env)?;
    }
    if !policy.exists() {
        let (env, _) = facility.sign_policy(&policy_src, now)?;
        facility::write_atomic(&policy, &env)?;
    }
    for doc in [&roster, &policy, &contacts] {
        let bytes = facility::read_capped(doc, crate::trust::MAX_ENVELOPE_BYTES)?;
        match tablet
            .people()
            .accept_document(&bytes)
            .map_err(|e| Error::Document(e.to_string()))?
        {
            crate::tablet::DocOutcome::Accepted {
                kind,
                scope,
                version,
            } => writeln!(out, "6. accept    {kind} for {scope} version {version}")?,
            crate::tablet::DocOutcome::AlreadyCurrent {
                kind,
                scope,
                version,
            } => writeln!(
                out,
                "6. accept    {kind} for {scope} version {version} is already current"
            )?,
        }
    }
    // 7. The dock: this tablet enrolled for unit b-east, and the same
    // documents published for it to pull.
    let mut dock = crate::dock::Dock::open_or_init(&p.facility, &p.dock)
        .map_err(|e| Error::Document(e.to_string()))?;
    let key = tablet.device_public_key();
    if !dock
        .tablets()
        .map_err(|e| Error::Document(e.to_string()))?
        .iter()
        .any(|t| t.key == key.to_hex())
    {
        dock.enroll(
            &crate::dock::staff::Actor::cli(),
            key,
            "demo-tablet",
            &[GroupId::parse("unit:b-east").expect("valid")],
        )
        .map_err(|e| Error::Document(e.to_string()))?;
    }
    for doc in [&roster, &policy, &contacts] {
        let bytes = facility::read_capped(doc, crate::trust::MAX_ENVELOPE_BYTES)?;
        dock.publish(&bytes)
            .map_err(|e| Error::Document(e.to_string()))?;
    }
    writeln!(
        out,
        "7. dock      tablet {key} enrolled as demo-tablet; documents published in {}",
        p.dock.display()
    )?;
    // 8. Music: each demo person owns the demo album. The receipts go to
    //    the dock (so any tablet gets them at its first sync) and, carried
    //    by hand, to this tablet.
    let receipts = p.bundles.join("entitlements");
    std::fs::create_dir_all(&receipts)?;
    for (id, _, _) in demo_people(&roster_src) {
        let file = receipts.join(format!("{id}.signed"));
        if !file.exists() {
            let person = crate::domain::people::PersonId::parse(&id)
                .map_err(|e| Error::Document(e.to_string()))?;
            let item = crate::domain::content::EntitledItem::Album(DEMO_ALBUM.into());
            let (env, _) = facility.sign_entitlement(person, item, now)?;
            facility::write_atomic(&file, &env)?;
        }
        let env = facility::read_capped(&file, crate::trust::MAX_ENVELOPE_BYTES)?;
        dock.publish(&env)
            .map_err(|e| Error::Document(e.to_string()))?;
        tablet
            .library()
            .accept_entitlement(&env)
            .map_err(|e| Error::Document(e.to_string()))?;
    }
    writeln!(
        out,
        "8. music     album:{DEMO_ALBUM} granted to every demo person (receipts in {})",
        receipts.display()
    )?;
    // 9. A letter waiting for review: Ana's reply, delivered into the
    //    gateway's Maildir as the relay would, and imported (a second run
    //    sees it as a duplicate).
    let reply = facility::read_capped(
        &examples.join("reply.eml"),
        crate::dock::mail::MAX_EML_BYTES,
    )?;
    crate::dock::gateway::deliver_to_maildir(&dock.maildir(), &reply)
        .map_err(|e| Error::Document(e.to_string()))?;
    let report = dock
        .import_mail(None)
        .map_err(|e| Error::Document(e.to_string()))?;
    writeln!(
        out,
        "9. mail      Ana's reply {} (staff review it: `berth-facility review list`, or the console)",
        if report.accepted.is_empty() {
            "was already waiting"
        } else {
            "is waiting for review"
        }
    )?;
    writeln!(
        out,
        "   people    first login uses the enrolment code; then each person picks a PIN:"
    )?;
    for (id, name, code) in demo_people(&roster_src) {
        let enrolled = tablet
            .people()
            .roster()
            .ok()
            .and_then(|v| v.into_iter().find(|p| p.id == id))
            .is_some_and(|p| p.enrolled);
        if enrolled {
            writeln!(out, "             {id}  {name:<20} (PIN already set)")?;
        } else {
            writeln!(out, "             {id}  {name:<20} code {code}")?;
        }
    }
    Ok(outcomes)
}

/// Who publishes a bundle: the facility, the vendor's key and delegation,
/// where the packed bundles go, and when.
struct Publish<'a> {
    facility: &'a Facility,
    vendor_key: &'a SigningKey,
    delegation: &'a Path,
    bundles: &'a Path,
    now: chrono::DateTime<Utc>,
}

/// Check a content tree, pack it as the vendor, approve it as facility IT
/// and install it through the real tablet installer. A bundle an earlier
/// run approved is reused: packing again would sign new content under the
/// same version.
fn publish(
    by: &Publish<'_>,
    tablet: &mut Tablet,
    src: &Path,
    (ct, id, title, name): (ContentType, &str, &str, &str),
    out: &mut dyn Write,
) -> Result<Outcome, Error> {
    let (facility, vendor_key, now) = (by.facility, by.vendor_key, by.now);
    let delegation_path = by.delegation;
    let packed = by.bundles.join(format!("{name}-v1.berth"));
    let approved = by.bundles.join(format!("{name}-v1.approved.berth"));
    if !approved.exists() {
        let problems = crate::content::validate(src, ct);
        if !problems.is_empty() {
            return Err(Error::Document(format!(
                "{}: {}",
                src.display(),
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        let delegation = facility::read_capped(&delegation_path, crate::trust::MAX_ENVELOPE_BYTES)?;
        let spec = PackSpec {
            bundle_id: BundleId::parse(id).expect("valid id"),
            version: 1,
            content_type: ct,
            vendor: VendorId::parse(DEMO_VENDOR).expect("valid id"),
            title: title.into(),
            tablet_model: TabletModel::parse(TabletModel::ANY).expect("valid model"),
            created: now,
            expires: now + Duration::days(180),
            chunk_size: DEFAULT_CHUNK_SIZE,
        };
        let r = pack::pack(src, &spec, &vendor_key, &delegation, &packed)?;
        writeln!(
            out,
            "3. pack      {id} version 1 ({}): {} files, {} bytes, manifest {}",
            ct.as_str(),
            r.manifest.files.len(),
            r.manifest.total_size,
            r.manifest_sha256
        )?;
        let a = facility.approve(
            &packed,
            vec![GroupId::parse("facility").expect("valid group")],
            &approved,
            now,
        )?;
        writeln!(
            out,
            "4. approve   facility IT approved manifest {} for groups [facility]",
            a.manifest_sha256
        )?;
    } else {
        writeln!(
            out,
            "3. pack      {} already packed and approved",
            packed.display()
        )?;
    }

    // 5. Install through the real tablet installer.
    let outcome = tablet.install(&mut FileSource::new(&approved))?;
    match &outcome {
        Outcome::Installed {
            bundle_id,
            version,
            files,
            bytes,
            manifest_sha256,
            ..
        } => writeln!(
            out,
            "5. install   {bundle_id} version {version} installed on the tablet: {files} files, {bytes} bytes in {}",
            tablet.content_path(manifest_sha256).display()
        )?,
        Outcome::AlreadyCurrent { bundle_id, version } => writeln!(
            out,
            "5. install   {bundle_id} version {version} is already current on the tablet"
        )?,
    }
    Ok(outcome)
}

/// How the demo tablet is set up: a tablet of unit b-east.
pub fn tablet_options(p: &DemoPaths) -> TabletOptions {
    TabletOptions {
        trust_file: Some(Facility::root_path(&p.facility)),
        groups: vec![
            GroupId::parse("facility").expect("valid group"),
            GroupId::parse(DEMO_UNIT).expect("valid group"),
        ],
        ..TabletOptions::default()
    }
}

pub const DEMO_UNIT: &str = "unit:b-east";

/// (id, name, enrolment code) of the example roster, to print for the demo.
pub fn demo_people(roster_toml: &Path) -> Vec<(String, String, String)> {
    let Ok(text) = std::fs::read_to_string(roster_toml) else {
        return Vec::new();
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    value
        .get("person")
        .and_then(|p| p.as_array())
        .map(|people| {
            people
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get("id")?.as_str()?.to_string(),
                        p.get("name")?.as_str()?.to_string(),
                        p.get("code")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Errors of [`screenshots`].
#[cfg(feature = "shell")]
#[derive(Debug, thiserror::Error)]
pub enum ScreenshotError {
    #[error(transparent)]
    Demo(#[from] Error),
    #[error(transparent)]
    Tour(#[from] crate::ui::tour::Error),
    #[error(transparent)]
    Platform(#[from] slint::PlatformError),
    #[error("preparing the demo letter: {0}")]
    Letter(String),
}

/// Build the demo in `work` at the screenshot time, then render every page
/// of the tour into `out` as PNG (`berth --headless --screenshot`, the
/// golden tests). Returns the files written, in order.
#[cfg(feature = "shell")]
pub fn screenshots(
    work: &Path,
    assets: &Path,
    out: &Path,
) -> Result<Vec<PathBuf>, ScreenshotError> {
    use std::sync::Arc;

    use crate::device::clock::ManualClock;
    use crate::domain::sync::{FeedEntry, FeedItem};

    let window = crate::ui::headless::install()?;
    let now = crate::ui::tour::screenshot_time();
    let clock = Arc::new(ManualClock::new(now));
    run_at(
        work,
        assets,
        &mut std::io::sink(),
        now,
        Box::new(clock.clone()),
    )?;
    let paths = DemoPaths::new(work);
    let (tablet, _) = Tablet::open(
        DataDir::new(&paths.tablet),
        tablet_options(&paths),
        Box::new(clock.clone()),
    )
    .map_err(Error::from)?;
    // The letter from Ana arrives as the dock would send it, signed by the
    // facility's messaging key.
    let letter = |e: &dyn std::fmt::Display| ScreenshotError::Letter(e.to_string());
    let facility = Facility::open(&paths.facility).map_err(Error::from)?;
    let key = facility.key("messaging").map_err(Error::from)?;
    let person = crate::domain::people::PersonId::parse("A12345").map_err(|e| letter(&e))?;
    let entry = FeedEntry {
        seq: 1,
        person: person.clone(),
        at: now - Duration::hours(2),
        item: FeedItem::Received {
            id: "demo-letter-1".into(),
            contact: crate::domain::messages::ContactId::parse("ana").map_err(|e| letter(&e))?,
            attorney: false,
            body: "¡Hola María! Los niños te mandan besos. Mamá está mejor. 💛".into(),
            sent_at: now - Duration::hours(20),
            subject: "Noticias de casa".into(),
            removed: Vec::new(),
        },
    };
    let blob = crate::trust::signed::sign(&key, crate::trust::payload_type::FEED_ENTRY, &entry);
    let world = crate::ui::tour::World {
        tablet,
        clock,
        arriving: vec![blob],
        asked: std::collections::BTreeMap::from([(person, 0)]),
    };
    Ok(crate::ui::tour::run(&window, world, out)?)
}

/// How large a library [`large_library`] makes.
#[derive(Clone, Copy, Debug)]
pub struct LibrarySize {
    /// Tracks, in albums of 100, in music bundles of 50 albums.
    pub tracks: usize,
    /// Lessons, in courses of 10 units of 100, in bundles of 9 courses.
    pub lessons: usize,
}

/// The demo, then a generated library on the same tablet: `size.tracks`
/// tracks and `size.lessons` lessons, each a real file in a real bundle,
/// packed, approved and installed like any other. Every demo person owns
/// every other album. For measuring the shell with a full tablet
/// (`cargo bench --bench shell`); an earlier run's bundles are reused.
pub fn large_library(
    dir: &Path,
    assets: &Path,
    size: LibrarySize,
    out: &mut dyn Write,
) -> Result<(), Error> {
    run(dir, assets, out)?;
    let now = Utc::now();
    let p = DemoPaths::new(dir);
    let facility = Facility::open(&p.facility)?;
    let vendor_key = SigningKey::load(&p.vendor.join("vendor.pk8"))?;
    let (mut tablet, _) = Tablet::open(
        DataDir::new(&p.tablet),
        tablet_options(&p),
        Box::new(SystemClock),
    )?;
    let by = Publish {
        facility: &facility,
        vendor_key: &vendor_key,
        delegation: &p.vendor.join("delegation.json"),
        bundles: &p.bundles,
        now,
    };
    let gen_dir = dir.join("generated");
    // The first second of the demo's MP3: a real, short track.
    let mp3 = first_mp3_frames(
        &std::fs::read(assets.join("music/03-amazing-grace.mp3"))?,
        40,
    )
    .ok_or_else(|| Error::Document("the demo MP3 has no frames".into()))?;
    let mp3 = &mp3[..];
    let cover = std::fs::read(assets.join("music/cover.png"))?;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut word = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        GENERATED_WORDS[(rng % GENERATED_WORDS.len() as u64) as usize]
    };
    let roster = assets
        .parent()
        .unwrap_or(assets)
        .join("examples/roster.toml");
    let people = demo_people(&roster);

    let albums = size.tracks.div_ceil(100);
    for b in 0..albums.div_ceil(50) {
        let src = gen_dir.join(format!("music-{b}"));
        for a in (b * 50)..((b + 1) * 50).min(albums) {
            let adir = src.join(format!("a{a:04}"));
            std::fs::create_dir_all(&adir)?;
            let n = (size.tracks - a * 100).min(100);
            let tracks: Vec<serde_json::Value> = (0..n)
                .map(|t| {
                    let file = format!("{t:03}.mp3");
                    std::fs::write(adir.join(&file), mp3)?;
                    Ok(serde_json::json!({
                        "id": format!("gen-t-{a}-{t}"),
                        "file": file,
                        "title": format!("{} {} {t}", word(), word()),
                    }))
                })
                .collect::<Result<_, std::io::Error>>()?;
            std::fs::write(adir.join("cover.png"), &cover)?;
            let doc = serde_json::json!({
                "id": format!("gen-album-{a}"),
                "title": format!("{} {a}", word()),
                "artist": format!("Artist {}", a % 40),
                "genre": (["folk", "blues", "classical", "gospel"][a % 4]),
                "year": 2026,
                "cover": "cover.png",
                "tracks": tracks,
            });
            std::fs::write(adir.join("album.json"), doc.to_string())?;
        }
        let id = format!("open-learning.gen-music-{b}");
        publish(
            &by,
            &mut tablet,
            &src,
            (
                ContentType::Music,
                &id,
                "Generated music",
                &format!("gen-music-{b}"),
            ),
            out,
        )?;
    }
    for a in (0..albums).step_by(2) {
        for (person, _, _) in &people {
            let file = p.bundles.join(format!("gen-album-{a}-{person}.signed"));
            if !file.exists() {
                let pid = crate::domain::people::PersonId::parse(person)
                    .map_err(|e| Error::Document(e.to_string()))?;
                let item = crate::domain::content::EntitledItem::Album(format!("gen-album-{a}"));
                let (env, _) = facility.sign_entitlement(pid, item, now)?;
                facility::write_atomic(&file, &env)?;
            }
            let env = facility::read_capped(&file, crate::trust::MAX_ENVELOPE_BYTES)?;
            tablet
                .library()
                .accept_entitlement(&env)
                .map_err(|e| Error::Document(e.to_string()))?;
        }
    }

    let courses = size.lessons.div_ceil(1000);
    for b in 0..courses.div_ceil(9) {
        let src = gen_dir.join(format!("course-{b}"));
        for c in (b * 9)..((b + 1) * 9).min(courses) {
            let cdir = src.join(format!("c{c:03}"));
            std::fs::create_dir_all(cdir.join("lessons"))?;
            let n = (size.lessons - c * 1000).min(1000);
            let mut units = Vec::new();
            for u in 0..n.div_ceil(100) {
                let mut lessons = Vec::new();
                for l in (u * 100)..((u + 1) * 100).min(n) {
                    let file = format!("lessons/{l:04}.md");
                    let body: Vec<&str> = (0..40).map(|_| word()).collect();
                    std::fs::write(
                        cdir.join(&file),
                        format!("# {} {} {l}\n\n{}.\n", word(), word(), body.join(" ")),
                    )?;
                    lessons.push(serde_json::Value::String(file));
                }
                units.push(serde_json::json!({
                    "title": { "en": format!("Unit {}", u + 1), "es": format!("Unidad {}", u + 1) },
                    "lessons": lessons,
                }));
            }
            let doc = serde_json::json!({
                "id": format!("gen-course-{c}"),
                "title": { "en": format!("{} course {c}", word()), "es": format!("Curso {c}") },
                "description": { "en": "A generated course.", "es": "Un curso generado." },
                "units": units,
                "subject": (["reading", "math", "trade"][c % 3]),
            });
            std::fs::write(cdir.join("course.json"), doc.to_string())?;
        }
        let id = format!("open-learning.gen-course-{b}");
        publish(
            &by,
            &mut tablet,
            &src,
            (
                ContentType::Education,
                &id,
                "Generated courses",
                &format!("gen-course-{b}"),
            ),
            out,
        )?;
    }
    Ok(())
}

/// Words of the generated titles and lessons (with accents, as people's
/// content has).
const GENERATED_WORDS: [&str; 48] = [
    "river", "canción", "mañana", "garden", "corazón", "letter", "música", "road", "lección",
    "window", "árbol", "family", "número", "bread", "camino", "light", "niño", "water", "trabajo",
    "story", "español", "market", "fábula", "number", "ciudad", "winter", "vida", "reading",
    "escuela", "mother", "palabra", "train", "sol", "kitchen", "luna", "history", "agua", "friend",
    "tiempo", "money", "noche", "science", "libro", "health", "mundo", "music", "amigo", "home",
];

/// The first `n` audio frames of an MP3, without its tags or its
/// Xing/Info frame (which would give the whole file's length): a shorter
/// MP3 that is whole.
fn first_mp3_frames(b: &[u8], n: usize) -> Option<Vec<u8>> {
    let mut at = 0;
    if b.starts_with(b"ID3") && b.len() >= 10 {
        let size = b[6..10]
            .iter()
            .fold(0usize, |a, &x| (a << 7) | usize::from(x & 0x7f));
        at = 10 + size;
    }
    let mut out = Vec::new();
    let mut kept = 0;
    while kept < n && at + 4 <= b.len() {
        let h = &b[at..at + 4];
        if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
            return None;
        }
        let mpeg1 = h[1] & 0x18 == 0x18;
        let rates: [u32; 3] = if mpeg1 {
            [44_100, 48_000, 32_000]
        } else {
            [22_050, 24_000, 16_000]
        };
        let kbps: [u32; 15] = if mpeg1 {
            [
                0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
            ]
        } else {
            [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
        };
        let br = *kbps.get(usize::from(h[2] >> 4))?;
        let sr = *rates.get(usize::from((h[2] >> 2) & 3))?;
        let pad = u32::from((h[2] >> 1) & 1);
        let len = ((if mpeg1 { 144_000 } else { 72_000 }) * br / sr + pad) as usize;
        if br == 0 || len < 4 || at + len > b.len() {
            return None;
        }
        let frame = &b[at..at + len];
        let info = frame
            .windows(4)
            .take(48)
            .any(|w| w == b"Xing" || w == b"Info");
        if !info {
            out.extend_from_slice(frame);
            kept += 1;
        }
        at += len;
    }
    (kept > 0).then_some(out)
}
