//! `cargo run --example clinic -- seed`: fills an empty database with a realistic clinic
//! (Korean names, a catalogue with real-looking fees, three weeks of past appointments
//! with treatments, invoices and payments, and a week ahead of bookings), then prints the
//! demo logins. The same data on every run: the generator is seeded.
//!
//! It writes through the app's own rules where they matter: staff accounts through the
//! auth service, appointments through `appointments::book` (so their slot locks exist and
//! later bookings cannot overlap them).

use starter::{
    auth::AuthService,
    mongo::{
        Mongo,
        bson::{DateTime, Document, oid::ObjectId},
    },
    pii::{Email, PersonName, Phone},
    reexports::secrecy::SecretString,
};
use starter_realtime::{EventBus, Tickets};
use starter_redis::Redis;

use crate::{
    app::Settings,
    appointments::{BOOKED, CANCELLED, COMPLETED, NO_SHOW, book},
    models::{
        ACTIVE, ADMIN, Appointment, BookedProcedure, ClinicState, DENTIST, Invoice, InvoiceLine,
        Patient, Payment, Procedure, RECEPTIONIST, Treatment,
    },
    patients::last4,
    staff::create_staff,
};

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "clinic-demo-2026";

const STAFF: &[(&str, &str, &str)] = &[
    ("admin@clinic.example", "한지민", ADMIN),
    ("dr.kim@clinic.example", "김지현", DENTIST),
    ("dr.park@clinic.example", "박서준", DENTIST),
    ("dr.lee@clinic.example", "이도윤", DENTIST),
    ("desk.choi@clinic.example", "최수아", RECEPTIONIST),
    ("desk.jung@clinic.example", "정하은", RECEPTIONIST),
];

/// Code, name, fee (KRW), minutes, and whether it is done on one tooth.
const CATALOGUE: &[(&str, &str, i64, i64, bool)] = &[
    ("EXM01", "구강검진", 10_000, 15, false),
    ("XRY01", "파노라마 엑스레이", 20_000, 15, false),
    ("SCL01", "스케일링", 15_000, 30, false),
    ("FLU01", "불소 도포", 15_000, 15, false),
    ("RES01", "레진 충전", 70_000, 30, true),
    ("INL01", "인레이", 250_000, 45, true),
    ("RCT01", "신경치료", 120_000, 60, true),
    ("EXT01", "발치", 30_000, 30, true),
    ("WIS01", "사랑니 발치", 80_000, 45, true),
    ("CRN01", "지르코니아 크라운", 450_000, 60, true),
    ("WHT01", "미백", 200_000, 60, false),
    ("IMP01", "임플란트 식립", 1_200_000, 90, true),
];

const SURNAMES: &[&str] = &[
    "김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황",
    "안", "송", "류", "홍",
];
const GIVEN_NAMES: &[&str] = &[
    "민수", "서연", "지훈", "하은", "도윤", "지우", "서준", "수아", "예준", "지민", "현우", "유진",
    "건우", "채원", "우진", "다은", "선우", "소율", "준서", "하린",
];
const MEMOS: &[&str] = &[
    "페니실린 알레르기",
    "고혈압 약 복용 중",
    "임신 12주",
    "치과 공포증",
];

const PATIENTS: usize = 80;
const PAST_DAYS: i64 = 21;
const FUTURE_DAYS: i64 = 7;

/// Fills the database of `settings`, unless it already has staff.
pub async fn run(settings: &Settings) -> anyhow::Result<()> {
    let mongo = crate::models::register(Mongo::new(&settings.mongo).await?);
    let mongo = starter::auth::mongo::register(mongo);
    mongo.connect_with_retry().await?;
    mongo.ensure_indexes().await?;
    let auth = AuthService::mongo(&settings.auth, settings.core.profile, &mongo)?;
    auth.seed_admin().await?;
    // Built but never used here: nothing is published while seeding.
    let redis = Redis::new(&settings.redis)?;
    let s = ClinicState::new(
        &mongo,
        &auth,
        settings.clinic.clone(),
        EventBus::new(redis.clone(), &settings.realtime),
        Tickets::new(redis, &settings.realtime),
    );
    if s.staff.count(Document::new()).await? > 0 {
        println!("the database already has a clinic; nothing seeded");
        return Ok(());
    }
    let mut rng = fastrand::Rng::with_seed(16);
    let password = SecretString::from(DEMO_PASSWORD);

    let mut dentists = Vec::new();
    for (email, name, role) in STAFF {
        let staff = create_staff(
            &s,
            &Email::from(*email),
            PersonName::from(*name),
            role,
            &password,
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the staff member {email}: {e}"))?;
        if *role == DENTIST {
            dentists.push(staff);
        }
    }

    let mut procedures = Vec::new();
    for (code, name, fee, minutes, _) in CATALOGUE {
        let procedure = Procedure {
            id: ObjectId::new(),
            code: (*code).into(),
            name: (*name).into(),
            fee_krw: *fee,
            duration_min: *minutes,
            status: ACTIVE.into(),
        };
        s.procedures.insert(&procedure).await?;
        procedures.push(procedure);
    }

    let mut patients = Vec::with_capacity(PATIENTS);
    for _ in 0..PATIENTS {
        let name = format!(
            "{}{}",
            SURNAMES[rng.usize(..SURNAMES.len())],
            GIVEN_NAMES[rng.usize(..GIVEN_NAMES.len())]
        );
        let phone = Phone::from(format!(
            "010-{:04}-{:04}",
            rng.u32(1000..10000),
            rng.u32(0..10000)
        ));
        let born = jiff::civil::date(rng.i16(1950..2019), rng.i8(1..13), rng.i8(1..29));
        let patient = Patient {
            id: ObjectId::new(),
            name: PersonName::from(name),
            phone_last4: last4(&phone),
            phone,
            birth_date: born.to_string(),
            memo: if rng.u8(..10) == 0 {
                MEMOS[rng.usize(..MEMOS.len())].into()
            } else {
                String::new()
            },
            status: ACTIVE.into(),
            created_at: DateTime::now(),
        };
        s.patients.insert(&patient).await?;
        patients.push(patient);
    }

    let zone = s.clinic.zone()?;
    let now = jiff::Zoned::now().with_time_zone(zone.clone());
    let today = now.date();
    let (mut booked, mut invoiced) = (0, 0);
    for offset in -PAST_DAYS..=FUTURE_DAYS {
        let day = today.checked_add(jiff::Span::new().days(offset))?;
        // Weekends are closed, except today: the dashboard of a demo (or of its screenshots)
        // is never empty, whatever the day it runs.
        if offset != 0
            && matches!(
                day.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            )
        {
            continue;
        }
        for (i, dentist) in dentists.iter().enumerate() {
            // Each dentist works in their own chair, 09:00–18:00, lunch 13:00–14:00.
            let chair = s.clinic.chairs[i % s.clinic.chairs.len()];
            let mut minute = 9 * 60;
            loop {
                minute += 15 * rng.i64(0..3);
                let picked = pick_procedures(&mut rng, &procedures);
                let length: i64 = picked.iter().map(|p| p.duration_min).sum();
                if minute < 13 * 60 && minute + length > 13 * 60 {
                    minute = 14 * 60;
                }
                if minute + length > 18 * 60 {
                    break;
                }
                let start = day
                    .at((minute / 60) as i8, (minute % 60) as i8, 0, 0)
                    .to_zoned(zone.clone())?;
                let start_ms = start.timestamp().as_millisecond();
                let end_ms = start_ms + length * 60_000;
                let status = status_of(&mut rng, end_ms, now.timestamp().as_millisecond());
                let patient = &patients[rng.usize(..patients.len())];
                let appointment = Appointment {
                    id: ObjectId::new(),
                    patient_id: patient.id.to_hex(),
                    patient_name: patient.name.clone(),
                    dentist_id: dentist.id.to_hex(),
                    dentist_name: dentist.name.clone(),
                    chair,
                    start: DateTime::from_millis(start_ms),
                    end: DateTime::from_millis(end_ms),
                    status: status.into(),
                    procedures: picked
                        .iter()
                        .map(|p| BookedProcedure {
                            id: p.id.to_hex(),
                            code: p.code.clone(),
                            name: p.name.clone(),
                            duration_min: p.duration_min,
                        })
                        .collect(),
                    created_at: DateTime::now(),
                };
                book(&s, &appointment)
                    .await
                    .map_err(|e| anyhow::anyhow!("booking demo appointment: {e}"))?;
                booked += 1;
                if status == COMPLETED {
                    bill(&s, &mut rng, &appointment, &picked).await?;
                    invoiced += 1;
                }
                minute += length;
            }
        }
    }

    println!(
        "seeded: {} staff, {} procedures, {PATIENTS} patients, {booked} appointments, {invoiced} invoices",
        STAFF.len(),
        procedures.len()
    );
    println!("demo logins (password {DEMO_PASSWORD}):");
    for (email, name, role) in STAFF {
        println!("  {role:<13} {email:<26} {name}");
    }
    Ok(())
}

/// One to three procedures, mostly the everyday ones.
fn pick_procedures<'a>(rng: &mut fastrand::Rng, catalogue: &'a [Procedure]) -> Vec<&'a Procedure> {
    let everyday = &catalogue[..5];
    let mut picked = vec![&everyday[rng.usize(..everyday.len())]];
    if rng.u8(..3) == 0 {
        picked.push(&catalogue[rng.usize(..catalogue.len())]);
    }
    picked.dedup_by_key(|p| p.id);
    picked
}

fn status_of(rng: &mut fastrand::Rng, end_ms: i64, now_ms: i64) -> &'static str {
    let roll = rng.u8(..100);
    if end_ms < now_ms {
        match roll {
            0..=7 => NO_SHOW,
            8..=14 => CANCELLED,
            _ => COMPLETED,
        }
    } else if roll < 5 {
        CANCELLED
    } else {
        BOOKED
    }
}

/// A random permanent tooth (FDI).
fn tooth(rng: &mut fastrand::Rng) -> i32 {
    i32::from(rng.u8(1..5)) * 10 + i32::from(rng.u8(1..9))
}

/// The treatments, invoice and payments of a completed demo appointment.
async fn bill(
    s: &ClinicState,
    rng: &mut fastrand::Rng,
    appointment: &Appointment,
    procedures: &[&Procedure],
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    for procedure in procedures {
        let one_tooth = CATALOGUE
            .iter()
            .any(|(code, .., tooth)| *code == procedure.code && *tooth);
        let teeth = if one_tooth {
            vec![tooth(rng)]
        } else {
            Vec::new()
        };
        let treatment = Treatment {
            id: ObjectId::new(),
            appointment_id: appointment.id.to_hex(),
            patient_id: appointment.patient_id.clone(),
            date: appointment.start,
            day: s.day_of(appointment.start).map_err(api)?,
            procedure_id: procedure.id.to_hex(),
            code: procedure.code.clone(),
            name: procedure.name.clone(),
            fee_krw: procedure.fee_krw,
            teeth: teeth.clone(),
            notes: format!("{} 시행, 특이사항 없음", procedure.name),
            dentist_id: appointment.dentist_id.clone(),
            dentist_name: appointment.dentist_name.clone(),
            created_at: appointment.end,
        };
        s.treatments.insert(&treatment).await?;
        lines.push(InvoiceLine {
            code: procedure.code.clone(),
            name: procedure.name.clone(),
            fee_krw: procedure.fee_krw,
            teeth,
        });
    }
    let subtotal: i64 = lines.iter().map(|l| l.fee_krw).sum();
    // Now and then 10 % off, in whole thousands of won.
    let discount = if rng.u8(..5) == 0 {
        subtotal / 10 / 1000 * 1000
    } else {
        0
    };
    let total = subtotal - discount;
    let paid = match rng.u8(..10) {
        0 => 0,
        1 | 2 => total / 2 / 1000 * 1000,
        _ => total,
    };
    let invoice = Invoice {
        id: ObjectId::new(),
        patient_id: appointment.patient_id.clone(),
        patient_name: appointment.patient_name.clone(),
        appointment_id: appointment.id.to_hex(),
        issued_at: appointment.end,
        lines,
        subtotal_krw: subtotal,
        discount_krw: discount,
        total_krw: total,
        paid_krw: paid,
        refunded_krw: 0,
        balance_krw: total - paid,
        net_paid_krw: paid,
    };
    s.invoices.insert(&invoice).await?;
    if paid > 0 {
        let method = ["card", "card", "card", "cash", "transfer"][rng.usize(..5)];
        let payment = Payment {
            id: ObjectId::new(),
            invoice_id: invoice.id.to_hex(),
            amount_krw: paid,
            method: method.into(),
            at: appointment.end,
            day: s.day_of(appointment.end).map_err(api)?,
            kind: "payment".into(),
            reason: None,
        };
        s.payments.insert(&payment).await?;
    }
    Ok(())
}

/// An `ApiError` as an error of the command.
fn api(e: starter::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
