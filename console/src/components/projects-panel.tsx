import type { ProjectData } from '../api/documents.js';
import { againstLimit } from '../format.js';

export interface ProjectActions {
  allowed: boolean;
  edit(project: ProjectData): void;
}

/** Projects: their fair-share weight and running jobs against their limit; an admin edits both. */
export function ProjectsPanel(props: { projects: ProjectData[]; actions: ProjectActions }) {
  const { actions } = props;
  if (props.projects.length === 0) return <p class="empty">No project yet (createProject).</p>;
  return (
    <table data-table="projects">
      <thead>
        <tr>
          <th>Project</th>
          <th title="fair-share weight between projects: a project with share 2 gets twice the starts of one with 1">Share</th>
          <th>Limit</th>
          <th>Running jobs</th>
          {actions.allowed && <th />}
        </tr>
      </thead>
      <tbody>
        {props.projects.map((project) => (
          <tr key={project.id} data-project={project.name} data-project-id={project.id}>
            <td>{project.name}</td>
            <td data-col="share">{project.share}</td>
            <td data-col="limit">{project.maxConcurrentJobs ?? 'no limit'}</td>
            <td data-col="running">{againstLimit(project.runningJobs, project.maxConcurrentJobs)}</td>
            {actions.allowed && (
              <td>
                <button type="button" data-action="project-limits" onClick={() => actions.edit(project)}>
                  Share and limit
                </button>
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
