//! The fleet `serve` loads when given none: a few Linux instances in
//! `cn-hangzhou`, enough to try every call by hand.

use casim_fleet::FleetSpec;
use casim_fleet::spec::{AgentSpec, InstanceSpec, InstanceState, OsType, Timing};
use casim_model::{InstanceId, RegionId};

pub fn fleet() -> FleetSpec {
    let instance = |id: &str, name: &str| InstanceSpec {
        id: InstanceId::from(id),
        region: RegionId::from("cn-hangzhou"),
        name: name.to_owned(),
        os: OsType::Linux,
        state: InstanceState::Running,
        agent: AgentSpec::default(),
        tags: [("env".to_owned(), "demo".to_owned())]
            .into_iter()
            .collect(),
        resource_group_id: None,
        instance_group: Some("web".to_owned()),
        users: Some(vec![
            "root".to_owned(),
            "admin".to_owned(),
            "nginx".to_owned(),
        ]),
        groups: Some(vec![
            "root".to_owned(),
            "admin".to_owned(),
            "nginx".to_owned(),
        ]),
        directories: vec!["/etc/nginx".to_owned()],
        files: Vec::new(),
        timing: Timing::default(),
        disk_free_bytes: None,
    };
    FleetSpec {
        timing: Timing::default(),
        instance_groups: Default::default(),
        instances: vec![
            instance("i-bp1demo0web00000001", "web-1"),
            instance("i-bp1demo0web00000002", "web-2"),
            instance("i-bp1demo0web00000003", "web-3"),
        ],
        faults: Vec::new(),
        api_faults: Vec::new(),
        schedule: Vec::new(),
    }
}
