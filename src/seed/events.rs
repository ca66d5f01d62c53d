//! Events (事) over the history before the anchor, about 0.67 per person per year, each with a
//! timeline that walks the loop report → accept → [escalate → dispatch → acknowledge] →
//! resolve → close as far as its status says, deadlines from its priority, and the persons
//! involved (reporter, parties, handler).

use crate::domain::deadlines::Deadlines;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sea_orm::Iterable;

use super::grid::{Territory, CIVIL_AFFAIRS, DEPARTMENTS, POLICE, PROPERTY};
use super::people::People;
use super::plan::{Plan, HISTORY_YEARS};
use super::random::{anchor, one_of, phase_rng, pick, SeedRng};
use super::sink::{Buffer, Writer};
use super::staff::Staff;
use crate::entity::vocabulary::{
    EventActionKind as Act, EventCategory as Cat, EventChannel, EventPriority, EventStatus as St,
    InvolvementRole,
};
use crate::entity::{event, event_action, event_involvement};

/// Categories with weights.
const CATEGORIES: &[(Cat, u32)] = &[
    (Cat::Sanitation, 22),
    (Cat::CityManagement, 18),
    (Cat::PropertyComplaint, 16),
    (Cat::ServiceRequest, 14),
    (Cat::SafetyHazard, 13),
    (Cat::Dispute, 11),
    (Cat::Petition, 4),
    (Cat::EpidemicControl, 2),
];
/// Channels with weights.
const CHANNELS: &[(EventChannel, u32)] = &[
    (EventChannel::Patrol, 42),
    (EventChannel::Resident, 24),
    (EventChannel::Hotline, 20),
    (EventChannel::Camera, 9),
    (EventChannel::Department, 5),
];
/// Hours of the day events are reported at, with weights (mostly office hours).
const HOURS: &[(i64, u32)] = &[
    (0, 1),
    (1, 1),
    (2, 1),
    (3, 1),
    (4, 1),
    (5, 1),
    (6, 2),
    (7, 4),
    (8, 8),
    (9, 10),
    (10, 10),
    (11, 9),
    (12, 6),
    (13, 6),
    (14, 8),
    (15, 9),
    (16, 9),
    (17, 7),
    (18, 5),
    (19, 4),
    (20, 3),
    (21, 2),
    (22, 2),
    (23, 1),
];

/// Minutes to respond and to resolve for a priority (the 15-minute / 30-minute / 2-hour rule).
pub(crate) fn deadlines(priority: EventPriority) -> (i64, i64) {
    let d = Deadlines::default();
    (
        d.respond_minutes.minutes(priority),
        d.resolve_minutes.minutes(priority),
    )
}

/// The department an event of `category` is dispatched to.
fn department_for(category: Cat) -> i64 {
    match category {
        Cat::SafetyHazard | Cat::Dispute => POLICE,
        Cat::Sanitation | Cat::CityManagement | Cat::PropertyComplaint => PROPERTY,
        Cat::Petition | Cat::ServiceRequest | Cat::EpidemicControl => CIVIL_AFFAIRS,
    }
}

/// Titles per category.
fn titles(category: Cat) -> &'static [&'static str] {
    match category {
        Cat::SafetyHazard => &[
            "楼道堆放杂物堵塞消防通道",
            "电动车楼道充电",
            "燃气管道异味",
            "小区围墙开裂存在倒塌风险",
            "消防栓损坏无水",
        ],
        Cat::Dispute => &[
            "楼上漏水引发邻里纠纷",
            "噪音扰民纠纷",
            "停车位占用纠纷",
            "宠物扰民引发矛盾",
            "房屋租赁押金纠纷",
        ],
        Cat::Sanitation => &[
            "垃圾清运不及时",
            "小区绿化带垃圾堆积",
            "化粪池外溢",
            "楼道卫生脏乱",
            "公共区域积水",
        ],
        Cat::CityManagement => &[
            "占道经营",
            "车辆乱停乱放",
            "私搭乱建",
            "违规张贴小广告",
            "路灯不亮",
        ],
        Cat::PropertyComplaint => &[
            "电梯故障停运",
            "物业服务态度差",
            "供暖温度不达标",
            "门禁系统失灵",
            "物业费收费不透明",
        ],
        Cat::Petition => &[
            "反映老旧小区改造进度",
            "反映拆迁补偿问题",
            "反映工资拖欠问题",
            "反映低保资格认定问题",
        ],
        Cat::ServiceRequest => &[
            "独居老人需要上门帮扶",
            "申请办理居住证明",
            "咨询医保缴费",
            "残疾人申请辅助器具",
            "申请临时救助",
        ],
        Cat::EpidemicControl => &["外地返克人员登记", "重点人员健康监测", "小区疫苗接种组织"],
    }
}

/// A sentence added to descriptions per category.
fn detail(category: Cat) -> &'static str {
    match category {
        Cat::SafetyHazard => "存在安全隐患，请尽快排查处置。",
        Cat::Dispute => "双方多次协商未果，请求网格调解。",
        Cat::Sanitation => "影响居民生活环境，请安排清理。",
        Cat::CityManagement => "影响通行和市容，请依法处置。",
        Cat::PropertyComplaint => "居民多次向物业反映未解决。",
        Cat::Petition => "当事人情绪较为激动，请妥善处理。",
        Cat::ServiceRequest => "请社区工作人员联系办理。",
        Cat::EpidemicControl => "请按防控要求落实。",
    }
}

/// Status of an event reported `age_days` ago: old events are nearly all closed.
fn status_for(rng: &mut SeedRng, age_days: i64) -> St {
    let weights: &[(St, u32)] = match age_days {
        ..=2 => &[
            (St::Reported, 18),
            (St::Accepted, 28),
            (St::Escalated, 6),
            (St::Dispatched, 6),
            (St::Acknowledged, 10),
            (St::Resolved, 16),
            (St::Closed, 12),
            (St::Rejected, 4),
        ],
        3..=14 => &[
            (St::Reported, 2),
            (St::Accepted, 14),
            (St::Escalated, 3),
            (St::Dispatched, 3),
            (St::Acknowledged, 6),
            (St::Resolved, 20),
            (St::Closed, 48),
            (St::Rejected, 4),
        ],
        15..=60 => &[
            (St::Accepted, 30),
            (St::Escalated, 5),
            (St::Acknowledged, 20),
            (St::Resolved, 60),
            (St::Closed, 855),
            (St::Rejected, 30),
        ],
        _ => &[
            (St::Accepted, 5),
            (St::Acknowledged, 5),
            (St::Resolved, 10),
            (St::Closed, 950),
            (St::Rejected, 30),
        ],
    };
    pick(rng, weights)
}

/// One step of a timeline, before it gets its row.
struct Step {
    action: Act,
    from: Option<St>,
    to: St,
    at: DateTime<Utc>,
    actor: String,
    note: &'static str,
    department: Option<i64>,
}

/// Generates and writes events with their actions and involvements.
struct Builder<'w, 't> {
    writer: &'w mut Writer,
    rng: SeedRng,
    territory: &'t Territory,
    people: &'t People,
    staff: &'t Staff,
    events: Buffer<event::Entity>,
    actions: Buffer<event_action::Entity>,
    involvements: Buffer<event_involvement::Entity>,
    next_action: i64,
    next_involvement: i64,
}

/// Writes `plan.events` events over the last [`HISTORY_YEARS`] years; returns how many.
pub async fn write_events(
    writer: &mut Writer,
    territory: &Territory,
    people: &People,
    staff: &Staff,
    plan: &Plan,
    seed: u64,
) -> anyhow::Result<u64> {
    let mut cumulative = 0.0;
    let weights: Vec<f64> = territory
        .leaves
        .iter()
        .map(|l| {
            cumulative += l.target as f64 + if l.is_residential() { 10.0 } else { 120.0 };
            cumulative
        })
        .collect();
    let mut builder = Builder {
        writer,
        rng: phase_rng(seed, 6),
        territory,
        people,
        staff,
        events: Buffer::default(),
        actions: Buffer::default(),
        involvements: Buffer::default(),
        next_action: 1,
        next_involvement: 1,
    };
    let forced: Vec<St> = St::iter().collect();
    for id in 1..=plan.events as i64 {
        let roll = builder.rng.random_range(0.0..cumulative);
        let leaf = weights
            .partition_point(|&w| w <= roll)
            .min(weights.len() - 1);
        builder.event(id, leaf, forced.get(id as usize - 1).copied());
        builder.flush_if_full().await?;
    }
    builder.flush().await?;
    Ok(plan.events)
}

impl Builder<'_, '_> {
    async fn flush(&mut self) -> anyhow::Result<()> {
        self.writer.write(&mut self.events)?;
        self.writer.write(&mut self.actions)?;
        self.writer.write(&mut self.involvements)?;
        self.writer.send().await
    }

    async fn flush_if_full(&mut self) -> anyhow::Result<()> {
        if self.events.is_full() || self.actions.is_full() || self.involvements.is_full() {
            self.flush().await?;
        }
        Ok(())
    }

    /// When an event was reported: uniformly over the history, at office hours mostly; the
    /// first events (which take every status in turn) in the last ten days.
    fn reported_at(&mut self, recent: bool) -> DateTime<Utc> {
        let days = if recent {
            10
        } else {
            HISTORY_YEARS as i64 * 365
        };
        let day = self.rng.random_range(0..days);
        let hour = pick(&mut self.rng, HOURS);
        let at = anchor() - Duration::days(day + 1)
            + Duration::hours(hour)
            + Duration::seconds(self.rng.random_range(0..3_600));
        at.min(anchor() - Duration::minutes(self.rng.random_range(5..120)))
    }

    /// Generates event `id` in leaf `leaf`, forced to `status` if given.
    fn event(&mut self, id: i64, leaf_index: usize, status: Option<St>) {
        let leaf = &self.territory.leaves[leaf_index];
        let reported_at = self.reported_at(status.is_some());
        let status = status
            .unwrap_or_else(|| status_for(&mut self.rng, (anchor() - reported_at).num_days()));
        let category = pick(&mut self.rng, CATEGORIES);
        let priority = match category {
            Cat::SafetyHazard => pick(
                &mut self.rng,
                &[
                    (EventPriority::Low, 10),
                    (EventPriority::Normal, 45),
                    (EventPriority::High, 30),
                    (EventPriority::Urgent, 15),
                ],
            ),
            _ => pick(
                &mut self.rng,
                &[
                    (EventPriority::Low, 25),
                    (EventPriority::Normal, 58),
                    (EventPriority::High, 13),
                    (EventPriority::Urgent, 4),
                ],
            ),
        };
        let mut channel = pick(&mut self.rng, CHANNELS);
        if channel == EventChannel::Camera
            && !matches!(
                category,
                Cat::Sanitation | Cat::CityManagement | Cat::SafetyHazard
            )
        {
            channel = EventChannel::Patrol;
        }
        let (respond, resolve) = deadlines(priority);
        let escalate_share = match priority {
            EventPriority::Urgent => 0.6,
            EventPriority::High => 0.35,
            EventPriority::Normal => 0.12,
            EventPriority::Low => 0.05,
        };
        let escalated = matches!(status, St::Escalated | St::Dispatched | St::Acknowledged)
            || (matches!(status, St::Resolved | St::Closed)
                && self.rng.random_bool(escalate_share));
        let department = escalated.then(|| department_for(category));
        let steps = self.timeline(
            leaf_index,
            reported_at,
            status,
            channel,
            (respond, resolve),
            department,
        );
        let at_of = |action: Act| steps.iter().find(|s| s.action == action).map(|s| s.at);
        let title = one_of(&mut self.rng, titles(category));
        let place_id = (matches!(
            category,
            Cat::Sanitation | Cat::CityManagement | Cat::SafetyHazard
        ) && !leaf.places.is_empty()
            && self.rng.random_bool(0.7))
        .then(|| self.rng.random_range(leaf.places.clone()));
        let house_id = (matches!(
            category,
            Cat::PropertyComplaint | Cat::Dispute | Cat::ServiceRequest
        ) && !leaf.houses.is_empty()
            && self.rng.random_bool(0.7))
        .then(|| self.rng.random_range(leaf.houses.clone()));
        let (lat, lng) = leaf.centre;
        let model = event::Model {
            id,
            grid_id: leaf.id,
            place_id,
            house_id,
            department_id: department,
            category,
            priority,
            status,
            channel,
            title: title.to_string(),
            description: format!(
                "{}{}：{title}，{}",
                leaf.address(),
                leaf.name,
                detail(category)
            ),
            latitude: Some(lat + self.rng.random_range(-0.0008..0.0008)),
            longitude: Some(lng + self.rng.random_range(-0.0011..0.0011)),
            reported_at,
            respond_by: reported_at + Duration::minutes(respond),
            resolve_by: reported_at + Duration::minutes(resolve),
            resolved_at: at_of(Act::Resolve),
            closed_at: at_of(Act::Close),
            satisfaction: (status == St::Closed)
                .then(|| pick(&mut self.rng, &[(5, 55), (4, 28), (3, 10), (2, 4), (1, 3)])),
            held_at_grid_id: None,
            step_due_at: (status == St::Reported).then(|| reported_at + Duration::minutes(respond)),
            overdue_since: None,
        };
        self.push_actions(id, steps);
        self.involve(id, leaf_index, &model);
        self.events.push(model);
    }

    /// The steps of an event's loop up to `status`, squeezed before the anchor if needed.
    fn timeline(
        &mut self,
        leaf_index: usize,
        reported_at: DateTime<Utc>,
        status: St,
        channel: EventChannel,
        (respond, resolve): (i64, i64),
        department: Option<i64>,
    ) -> Vec<Step> {
        let t = self.territory;
        let leaf = &t.leaves[leaf_index];
        let grid = &t.grids[leaf.grid].name;
        let community = &t.communities[leaf.community].name;
        let centre = format!("{}综合指挥中心", t.streets[leaf.street].name);
        let reporter = match channel {
            EventChannel::Patrol => format!("{grid}网格员"),
            EventChannel::Resident => "居民".to_string(),
            EventChannel::Hotline => "12345市民服务热线".to_string(),
            EventChannel::Camera => "雪亮工程智能识别".to_string(),
            EventChannel::Department => "公安派出所".to_string(),
        };
        let mut steps = vec![Step {
            action: Act::Report,
            from: None,
            to: St::Reported,
            at: reported_at,
            actor: reporter,
            note: "事件上报",
            department: None,
        }];
        let mut at = reported_at;
        let step = |steps: &mut Vec<Step>,
                    action,
                    to: St,
                    at: DateTime<Utc>,
                    actor: String,
                    note,
                    department| {
            let from = steps.last().map(|s: &Step| s.to);
            steps.push(Step {
                action,
                from,
                to,
                at,
                actor,
                note,
                department,
            });
        };
        if status == St::Reported {
            return steps;
        }
        at += self.late_or_not(respond);
        if status == St::Rejected {
            step(
                &mut steps,
                Act::Reject,
                St::Rejected,
                at,
                format!("{grid}网格员"),
                "经核实不属于网格事件，不予受理",
                None,
            );
            return squeeze(steps, reported_at);
        }
        step(
            &mut steps,
            Act::Accept,
            St::Accepted,
            at,
            format!("{grid}网格员"),
            "网格受理，开始处置",
            None,
        );
        if let Some(department) = department {
            let name = DEPARTMENTS[(department - 1) as usize].1;
            at += Duration::minutes(self.rng.random_range(30..360));
            step(
                &mut steps,
                Act::Escalate,
                St::Escalated,
                at,
                community.clone(),
                "网格无法解决，上报社区",
                None,
            );
            if status != St::Escalated {
                at += Duration::minutes(self.rng.random_range(20..240));
                step(
                    &mut steps,
                    Act::Dispatch,
                    St::Dispatched,
                    at,
                    centre.clone(),
                    "街道吹哨，派遣职能部门",
                    Some(department),
                );
            }
            if !matches!(status, St::Escalated | St::Dispatched) {
                at += Duration::minutes(self.rng.random_range(10..180));
                step(
                    &mut steps,
                    Act::Acknowledge,
                    St::Acknowledged,
                    at,
                    name.to_string(),
                    "部门报到，接单处置",
                    Some(department),
                );
            }
        }
        if matches!(status, St::Resolved | St::Closed) {
            at = at.max(reported_at + self.late_or_not(resolve));
            let actor = department.map_or_else(
                || format!("{grid}网格员"),
                |d| DEPARTMENTS[(d - 1) as usize].1.to_string(),
            );
            step(
                &mut steps,
                Act::Resolve,
                St::Resolved,
                at,
                actor,
                "处置完毕，已向上报人反馈",
                department,
            );
        }
        if status == St::Closed {
            at += Duration::minutes(self.rng.random_range(120..4_320));
            step(
                &mut steps,
                Act::Close,
                St::Closed,
                at,
                centre,
                "核查通过，办结归档",
                None,
            );
        }
        squeeze(steps, reported_at)
    }

    /// A delay within `window` minutes most of the time, late by up to twice the window otherwise.
    fn late_or_not(&mut self, window: i64) -> Duration {
        let factor = if self.rng.random_bool(0.87) {
            self.rng.random_range(0.05..0.9)
        } else {
            self.rng.random_range(1.05..3.0)
        };
        Duration::seconds((window as f64 * 60.0 * factor) as i64)
    }

    fn push_actions(&mut self, event_id: i64, steps: Vec<Step>) {
        for step in steps {
            let photo =
                matches!(step.action, Act::Report | Act::Resolve) && self.rng.random_bool(0.6);
            let attachments = if photo {
                format!("[\"evt{event_id}_{}.jpg\"]", self.next_action)
            } else {
                "[]".to_string()
            };
            self.actions.push(event_action::Model {
                id: self.next_action,
                event_id,
                department_id: step.department,
                action: step.action,
                from_status: step.from,
                to_status: step.to,
                actor: step.actor,
                note: step.note.to_string(),
                attachments,
                at: step.at,
            });
            self.next_action += 1;
        }
    }

    /// Reporter (for residents and hotline calls), parties (two in a dispute) and the grid's
    /// handler once the event is accepted.
    fn involve(&mut self, event_id: i64, leaf_index: usize, event: &event::Model) {
        let leaf = &self.territory.leaves[leaf_index];
        let mut roles = Vec::new();
        if matches!(
            event.channel,
            EventChannel::Resident | EventChannel::Hotline
        ) {
            roles.push(InvolvementRole::Reporter);
        }
        let parties = match event.category {
            Cat::Dispute => 2,
            _ if self.rng.random_bool(0.2) => 1,
            _ => 0,
        };
        roles.extend(std::iter::repeat_n(InvolvementRole::Party, parties));
        for role in roles {
            if let Some(person) = self.people.sample(&mut self.rng, &leaf.persons, 16..=90) {
                self.involvement(event_id, person, role);
            }
        }
        let handled = !matches!(event.status, St::Reported | St::Rejected);
        if let Some(handler) = self.staff.handlers[leaf.grid].filter(|_| handled) {
            self.involvement(event_id, handler, InvolvementRole::Handler);
        }
    }

    fn involvement(&mut self, event_id: i64, person_id: i64, role: InvolvementRole) {
        self.involvements.push(event_involvement::Model {
            id: self.next_involvement,
            event_id,
            person_id,
            role,
        });
        self.next_involvement += 1;
    }
}

/// Scales the steps after the report so that the last one lies before the anchor.
fn squeeze(mut steps: Vec<Step>, reported_at: DateTime<Utc>) -> Vec<Step> {
    let limit = anchor() - Duration::minutes(1);
    let last = steps.last().map_or(reported_at, |s| s.at);
    if last > limit && limit > reported_at {
        let span = (last - reported_at).num_seconds() as f64;
        let room = (limit - reported_at).num_seconds() as f64;
        for step in &mut steps {
            let offset = (step.at - reported_at).num_seconds() as f64 * room / span;
            step.at = reported_at + Duration::seconds(offset as i64);
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_priority() {
        assert_eq!(deadlines(EventPriority::Urgent), (15, 1_440));
        assert_eq!(deadlines(EventPriority::High), (30, 4_320));
        assert_eq!(deadlines(EventPriority::Normal), (120, 10_080));
        assert_eq!(deadlines(EventPriority::Low), (1_440, 10_080));
    }

    #[test]
    fn old_events_are_mostly_closed() {
        let mut rng = phase_rng(1, 1);
        let closed = (0..1_000)
            .filter(|_| status_for(&mut rng, 400) == St::Closed)
            .count();
        assert!(closed > 900, "{closed}");
    }
}
