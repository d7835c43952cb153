//! Day-before reminders: no real SMS, an outbox. A sweep runs every
//! `clinic.reminder_sweep_secs` and queues one `Reminder` job (`starter-jobs`, in Redis,
//! retried) per booked appointment of tomorrow, the clinic's tomorrow; the job's worker
//! writes the message to `clinic_outbox`, where a real sender would pick it up.
//!
//! Every step may run twice (two instances sweep, a job is delivered at least once): the
//! outbox has a unique index on the appointment, so a reminder is written once.
//! (`starter-jobs` has no delayed jobs, hence the sweep rather than a job pushed at
//! booking for the day before.)

use std::{sync::Mutex, time::Duration};

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use starter::{
    Component,
    mongo::{
        MongoDocument, Sort,
        bson::{DateTime, doc, oid::ObjectId},
    },
    pii::Phone,
};
use starter_jobs::{JobContext, JobQueue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{appointments::BOOKED, models::ClinicState};

/// The most appointments one sweep reminds (a clinic day has far fewer).
const MAX_PER_SWEEP: i64 = 2000;

/// The job: remind the patient of this appointment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reminder {
    pub appointment_id: String,
}

/// A message waiting to be sent. The phone is there because sending needs it; it is
/// `pii::Phone`, so it never prints in clear.
#[derive(Debug, Clone, Serialize, Deserialize, MongoDocument)]
#[mongo(collection = "clinic_outbox")]
pub struct OutboxMessage {
    #[mongo(id)]
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// One reminder per appointment.
    #[mongo(unique)]
    pub appointment_id: String,
    /// `sms`.
    pub channel: String,
    pub to: Phone,
    pub body: String,
    pub created_at: DateTime,
}

/// Queues a reminder for each booked appointment of the clinic's tomorrow that has none.
pub async fn sweep(s: &ClinicState, queue: &JobQueue<Reminder>) -> anyhow::Result<usize> {
    let zone = s.clinic.zone()?;
    let tomorrow = jiff::Zoned::now()
        .with_time_zone(zone.clone())
        .date()
        .tomorrow()?;
    let start = tomorrow
        .to_zoned(zone.clone())?
        .timestamp()
        .as_millisecond();
    let end = tomorrow
        .tomorrow()?
        .to_zoned(zone)?
        .timestamp()
        .as_millisecond();
    let due = s
        .appointments
        .list(
            doc! { "status": BOOKED, "start": { "$gte": DateTime::from_millis(start),
            "$lt": DateTime::from_millis(end) } },
            Sort::asc("start"),
            MAX_PER_SWEEP,
        )
        .await?;
    let mut queued = 0;
    for appointment in due {
        let id = appointment.id.to_hex();
        if s.outbox
            .find_one(doc! { "appointment_id": &id })
            .await?
            .is_some()
        {
            continue;
        }
        queue.push(Reminder { appointment_id: id }).await?;
        queued += 1;
    }
    Ok(queued)
}

/// The job's handler: writes the reminder unless the appointment is no longer booked or
/// its reminder exists.
pub async fn remind(s: ClinicState, job: Reminder, _ctx: JobContext) -> anyhow::Result<()> {
    let id = ObjectId::parse_str(&job.appointment_id)?;
    let Some(appointment) = s.appointments.get(id).await? else {
        return Ok(());
    };
    if appointment.status != BOOKED {
        return Ok(());
    }
    let patient_id = ObjectId::parse_str(&appointment.patient_id)?;
    let Some(patient) = s.patients.get(patient_id).await? else {
        return Ok(());
    };
    let zone = s.clinic.zone()?;
    let at =
        jiff::Timestamp::from_millisecond(appointment.start.timestamp_millis())?.to_zoned(zone);
    let body = format!(
        "[{}] {}님, 내일 {} 진료 예약이 있습니다. 변경은 병원으로 연락 주세요.",
        s.clinic.name,
        patient.name.expose(),
        at.strftime("%-m월 %-d일 %H:%M"),
    );
    let message = OutboxMessage {
        id: ObjectId::new(),
        appointment_id: job.appointment_id,
        channel: "sms".into(),
        to: patient.phone,
        body,
        created_at: DateTime::now(),
    };
    match s.outbox.insert(&message).await {
        Ok(_) => Ok(()),
        // Written by an earlier run of this job or another instance's.
        Err(e) if e.is_duplicate_key() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The periodic sweep, as a component: started with the app, stopped with it.
pub struct ReminderSweep {
    state: ClinicState,
    queue: JobQueue<Reminder>,
    every: Duration,
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ReminderSweep {
    pub fn new(state: ClinicState, queue: JobQueue<Reminder>, every: Duration) -> Self {
        Self {
            state,
            queue,
            every,
            stop: CancellationToken::new(),
            task: Mutex::new(None),
        }
    }
}

impl Component for ReminderSweep {
    fn name(&self) -> &str {
        "reminder-sweep"
    }

    fn startup(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        let (state, queue, every, stop) = (
            self.state.clone(),
            self.queue.clone(),
            self.every,
            self.stop.clone(),
        );
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = ticks.tick() => {}
                }
                match sweep(&state, &queue).await {
                    Ok(0) => {}
                    Ok(queued) => tracing::info!(queued, "reminders queued"),
                    // The next sweep tries again.
                    Err(err) => tracing::warn!(error = %err, "reminder sweep failed"),
                }
            }
        });
        *self.task.lock().expect("sweep task lock") = Some(task);
        Box::pin(async { Ok(()) })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.stop.cancel();
        let task = self.task.lock().expect("sweep task lock").take();
        Box::pin(async move {
            if let Some(task) = task {
                let _ = task.await;
            }
        })
    }
}
