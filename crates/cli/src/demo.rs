//! `sahih demo`: a fresh institution, an official, a sample letter, signed and verified; then
//! an API client and the server on the embedded defaults, ready for an ECS client to try.

use crate::{Failure, init};
use sahih_core::store::NewOfficial;
use sahih_core::{CoreError, Lang, Level, SignOptions, TrustProviders};
use sahih_pdf::sample::{Line, single_page};
use sahih_pdf::{DisplayRect, PageSelector, Placement};
use sahih_pki::KeyAlgorithm;
use std::path::{Path, PathBuf};

const MARKER: &str = ".sahih-demo";
pub(crate) const DEMO_PASSPHRASE: &str = "contoh-passphrase-2026";
pub(crate) const DEMO_NIK: &str = "3171012501850003";

fn letter(institution: &str) -> Vec<u8> {
    let l = |x: f64, y: f64, size: f64, bold: bool, text: &str| Line {
        x,
        y,
        size,
        bold,
        text: text.into(),
    };
    let lines = vec![
        l(170.0, 790.0, 14.0, true, &institution.to_uppercase()),
        l(150.0, 772.0, 13.0, true, "DINAS KOMUNIKASI DAN INFORMATIKA"),
        l(
            160.0,
            757.0,
            9.0,
            false,
            "Jalan Merdeka No. 1, Kota Contoh 12345 - diskominfo@contoh.go.id",
        ),
        l(
            72.0,
            720.0,
            11.0,
            false,
            "Nomor    : 800/123/Diskominfo/2026",
        ),
        l(72.0, 705.0, 11.0, false, "Sifat      : Biasa"),
        l(72.0, 690.0, 11.0, false, "Lampiran : -"),
        l(
            72.0,
            675.0,
            11.0,
            false,
            "Hal         : Undangan Rapat Koordinasi SPBE",
        ),
        l(
            72.0,
            640.0,
            11.0,
            false,
            "Yth. Kepala Perangkat Daerah di lingkungan Pemerintah Kota Contoh",
        ),
        l(
            72.0,
            610.0,
            11.0,
            false,
            "Dalam rangka evaluasi Sistem Pemerintahan Berbasis Elektronik (SPBE) tahun 2026,",
        ),
        l(
            72.0,
            595.0,
            11.0,
            false,
            "dengan hormat kami mengundang Bapak/Ibu untuk menghadiri rapat koordinasi pada:",
        ),
        l(
            100.0,
            570.0,
            11.0,
            false,
            "hari, tanggal : Senin, 7 Desember 2026",
        ),
        l(
            100.0,
            555.0,
            11.0,
            false,
            "pukul            : 09.00 WIB s.d. selesai",
        ),
        l(
            100.0,
            540.0,
            11.0,
            false,
            "tempat          : Ruang Rapat Diskominfo Lt. 2",
        ),
        l(
            72.0,
            515.0,
            11.0,
            false,
            "Demikian undangan ini disampaikan, atas perhatiannya diucapkan terima kasih.",
        ),
        l(
            330.0,
            470.0,
            11.0,
            false,
            "Kepala Dinas Komunikasi dan Informatika,",
        ),
        l(330.0, 365.0, 11.0, true, "Budi Santoso, S.Kom., M.T."),
        l(330.0, 350.0, 11.0, false, "NIP. 198501252010011003"),
    ];
    single_page(&lines, "Undangan Rapat Koordinasi SPBE")
}

fn prepare_dir(data: &Path, explicit: bool) -> Result<PathBuf, Failure> {
    let dir = if explicit {
        data.to_path_buf()
    } else {
        PathBuf::from("./sahih-demo")
    };
    if dir.join(MARKER).exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
    }
    Ok(dir)
}

pub(crate) const DEMO_CLIENT: &str = "demo-app";

pub(crate) async fn run<H: crate::HttpServer>(
    data: &Path,
    lang: Lang,
    listen: &str,
    serve: bool,
    server: &H,
) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let explicit = std::env::var_os("SAHIH_DATA").is_some() || data != Path::new("./sahih-data");
    let dir = prepare_dir(data, explicit)?;
    let say = |id: &str, en: &str| println!("{}", if lang == Lang::Id { id } else { en });
    say(
        "==> 1/5 Membuat instansi contoh dan CA bawaan",
        "==> 1/5 Creating a demo institution and built-in CA",
    );
    // Bind first: the QR codes and certificate URLs name this address.
    let listener = if serve {
        Some(
            tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| core(CoreError::Io(format!("{listen}: {e}"))))?,
        )
    } else {
        None
    };
    let base_url = match listener.as_ref().and_then(|l| l.local_addr().ok()) {
        Some(addr) => format!("http://{addr}"),
        None => "https://sahih.contoh.go.id".to_string(),
    };
    let sahih = init(
        &dir,
        "Pemerintah Kota Contoh",
        &base_url,
        Default::default(),
        Default::default(),
    )
    .await
    .map_err(core)?;
    let _ = std::fs::write(
        dir.join(MARKER),
        b"created by sahih demo; removed by the next demo run\n",
    );
    say(
        "==> 2/5 Mendaftarkan pejabat contoh",
        "==> 2/5 Enrolling a demo official",
    );
    let official = NewOfficial {
        nik: DEMO_NIK.into(),
        nip: "198501252010011003".into(),
        name: "Budi Santoso, S.Kom., M.T.".into(),
        email: "budi.santoso@contoh.go.id".into(),
        position: "Kepala Dinas Komunikasi dan Informatika".into(),
        unit: "Dinas Komunikasi dan Informatika".into(),
    };
    sahih
        .enroll(&official, KeyAlgorithm::Rsa2048, DEMO_PASSPHRASE)
        .await
        .map_err(core)?;
    say(
        "==> 3/5 Membuat naskah dinas contoh",
        "==> 3/5 Writing a sample official letter",
    );
    let unsigned = dir.join("surat-undangan.pdf");
    std::fs::write(&unsigned, letter(&sahih.config.institution))
        .map_err(|e| core(CoreError::Io(e.to_string())))?;
    say(
        "==> 4/5 Menandatangani (PAdES B-LT: cap waktu + data validasi, QR di blok tanda tangan)",
        "==> 4/5 Signing (PAdES B-LT: timestamp + validation data, QR in the signature block)",
    );
    let signed = dir.join("surat-undangan-ttd.pdf");
    let services = sahih.trust_services().await.map_err(core)?;
    let providers = TrustProviders {
        tsa: Some(&services),
        validation_data: Some(&services),
    };
    let options = SignOptions {
        qr_link: None,
        specimen: None,
        extra_text: None,
        level: Level::BLT,
        placement: Some(Placement::Page {
            page: PageSelector::First,
            rect: Some(DisplayRect {
                x: 325.0,
                y: 382.0,
                w: 230.0,
                h: 80.0,
            }),
        }),
        reason: Some("Persetujuan naskah dinas".into()),
        location: Some("Kota Contoh".into()),
        lang,
    };
    let blobs = crate::blob_store(&sahih.data, &sahih.config).map_err(core)?;
    let env = sahih_core::pipeline::SigningEnv {
        blobs: &blobs,
        providers,
        remote: None,
        parallelism: 1,
        counter: None,
    };
    let outcome = sahih
        .sign_file(
            &unsigned,
            &signed,
            DEMO_NIK,
            DEMO_PASSPHRASE,
            None,
            &options,
            &env,
        )
        .await
        .map_err(core)?;
    say("==> 5/5 Memverifikasi", "==> 5/5 Verifying");
    let bytes = std::fs::read(&signed).map_err(|e| core(CoreError::Io(e.to_string())))?;
    let report = sahih
        .verify_bytes(&bytes, Vec::new(), time::OffsetDateTime::now_utc())
        .await
        .map_err(core)?;
    println!();
    print!("{}", sahih_validate::render::render_text(&report, lang));
    let root_pem = dir.join("root-ca.pem");
    let root = sahih.root_certificate().await.map_err(core)?;
    let _ = std::fs::write(&root_pem, sahih_pki::der_to_pem(&root.der, "CERTIFICATE"));
    println!();
    match lang {
        Lang::Id => println!(
            "Berkas:\n  data      : {d}\n  asli      : {u}\n  bertanda  : {s}\n  root CA   : {r}\n  QR        : {url}\n\
             Coba:\n  sahih --data {d} verify {s}\n  pdfsig -nssdir <db NSS berisi root> {s}\n  \
             SAHIH_PASSPHRASE={p} sahih --data {d} sign {u} -o ttd2.pdf --nik {n} --anchor \"Kepala Dinas\"",
            d = dir.display(),
            u = unsigned.display(),
            s = signed.display(),
            r = root_pem.display(),
            url = outcome.verification_url,
            p = DEMO_PASSPHRASE,
            n = DEMO_NIK
        ),
        Lang::En => println!(
            "Files:\n  data      : {d}\n  original  : {u}\n  signed    : {s}\n  root CA   : {r}\n  QR        : {url}\n\
             Try:\n  sahih --data {d} verify {s}\n  pdfsig -nssdir <NSS db with the root> {s}\n  \
             SAHIH_PASSPHRASE={p} sahih --data {d} sign {u} -o signed2.pdf --nik {n} --anchor \"Kepala Dinas\"",
            d = dir.display(),
            u = unsigned.display(),
            s = signed.display(),
            r = root_pem.display(),
            url = outcome.verification_url,
            p = DEMO_PASSPHRASE,
            n = DEMO_NIK
        ),
    }
    if report.indication != sahih_validate::Indication::TotalPassed {
        sahih.store.close().await;
        return Err(Failure {
            code: 1,
            message: String::new(),
        });
    }
    let Some(listener) = listener else {
        sahih.store.close().await;
        return Ok(());
    };
    let secret = sahih
        .add_api_client(&sahih_core::requests::ClientSpec::app(DEMO_CLIENT), "cli")
        .await
        .map_err(core)?;
    let credential = format!("{DEMO_CLIENT}:{secret}");
    let shutdown = server
        .catch_shutdown()
        .map_err(|e| core(CoreError::Io(e.to_string())))?;
    println!();
    match lang {
        Lang::Id => println!(
            "Server Sahih berjalan di {base_url} (Ctrl-C untuk berhenti)\n\
             Klien API contoh (HTTP Basic, seperti ECS BSrE):\n  {credential}\n\
             Coba dari terminal lain:\n  \
             curl -u {credential} {base_url}/api/user/status/{n}\n  \
             curl -u {credential} -F file=@{u} -F nik={n} -F passphrase={p} -F tampilan=visible -F tag_koordinat=\"Kepala Dinas\" -F width=220 -F height=80 -o ttd-api.pdf {base_url}/api/sign/pdf\n  \
             curl -u {credential} -F signed_file=@ttd-api.pdf {base_url}/api/sign/verify",
            u = unsigned.display(),
            n = DEMO_NIK,
            p = DEMO_PASSPHRASE,
        ),
        Lang::En => println!(
            "Sahih server running at {base_url} (Ctrl-C to stop)\n\
             Demo API client (HTTP Basic, as BSrE's ECS):\n  {credential}\n\
             Try from another terminal:\n  \
             curl -u {credential} {base_url}/api/user/status/{n}\n  \
             curl -u {credential} -F file=@{u} -F nik={n} -F passphrase={p} -F tampilan=visible -F tag_koordinat=\"Kepala Dinas\" -F width=220 -F height=80 -o signed-api.pdf {base_url}/api/sign/pdf\n  \
             curl -u {credential} -F signed_file=@signed-api.pdf {base_url}/api/sign/verify",
            u = unsigned.display(),
            n = DEMO_NIK,
            p = DEMO_PASSPHRASE,
        ),
    }
    let blobs = crate::blob_store(&sahih.data, &sahih.config).map_err(core)?;
    server
        .serve(sahih, services, blobs, listener, shutdown)
        .await
        .map_err(|e| core(CoreError::Io(e.to_string())))
}
