"""Cookiecutter runs this in the new project: print the next steps that copier prints too.

The template has no conditional files yet, so there is nothing to tidy; keep the wording in step
with `_message_after_copy` in copier.yml (tests compare the two).
"""

from pathlib import Path

print(
    f"""
Your service "{{ cookiecutter.project_slug }}" is ready in {Path.cwd()}.

Next steps:
  cd {Path.cwd()}
  cargo run                          # serves http://127.0.0.1:{{ cookiecutter.http_port }}/healthz
  cargo test --locked                # the service's own tests
"""
)
