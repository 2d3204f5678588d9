//! DescribeCloudAssistantStatus: the agents as the service reports them.

use super::*;

impl Simulation {
    /// DescribeCloudAssistantStatus: the agents of the region's instances
    /// (or of `instance_ids`), sorted by instance id, with the matching
    /// total and, in token paging, the next token.
    pub fn cloud_assistant_status(
        &self,
        request: &DescribeCloudAssistantStatusRequest,
    ) -> Result<(Vec<AgentReport>, u64, Option<String>), ApiError> {
        if !self.has_region(&request.region_id) {
            return Err(ApiError::RegionNotFound);
        }
        let in_region = |instance: &&Instance| {
            instance.spec.region == request.region_id && instance.state != InstanceState::Released
        };
        let os_matches = |instance: &&Instance| {
            request.os_type.as_ref().is_none_or(|os| {
                let name = instance.os().as_str();
                os.eq_ignore_ascii_case(name)
            })
        };
        if !request.instance_ids.is_empty() {
            // Named instances: every one must exist here; paging is ignored.
            let mut reports = Vec::with_capacity(request.instance_ids.len());
            for id in &request.instance_ids {
                let instance = self
                    .instances
                    .get(id)
                    .filter(in_region)
                    .ok_or(ApiError::InstanceNotFound)?;
                if os_matches(&instance) {
                    reports.push(instance.report(self.now));
                }
            }
            let total = reports.len() as u64;
            return Ok((reports, total, None));
        }
        let matching: Vec<&Instance> = self
            .instances
            .values()
            .filter(in_region)
            .filter(os_matches)
            .collect();
        match &request.paging {
            Paging::Pages { number, size } => {
                let offset = usize::try_from(number.saturating_sub(1).saturating_mul(*size))
                    .unwrap_or(usize::MAX);
                let size = usize::try_from(*size).unwrap_or(usize::MAX);
                let page = matching
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|i| i.report(self.now))
                    .collect();
                Ok((page, matching.len() as u64, None))
            }
            Paging::Token {
                max_results,
                next_token,
            } => {
                let start = match next_token {
                    Some(token) => {
                        let after = matching
                            .iter()
                            .position(|i| i.spec.id.as_str() == token)
                            .ok_or(ApiError::InvalidNextToken)?;
                        after + 1
                    }
                    None => 0,
                };
                let size = usize::try_from(*max_results).unwrap_or(usize::MAX);
                let page: Vec<AgentReport> = matching
                    .iter()
                    .skip(start)
                    .take(size)
                    .map(|i| i.report(self.now))
                    .collect();
                let more = start + page.len() < matching.len();
                let token = match (more, page.last()) {
                    (true, Some(last)) => last.instance_id.to_string(),
                    _ => String::new(),
                };
                Ok((page, 0, Some(token)))
            }
        }
    }
}
