from playwright.sync_api import expect


def test_a_milestone_title_is_text_in_the_gantt_chart(page, sign_in, demo, db, make):
    from app.recommendations.models import LineOfEffort

    line = db.session.scalar(db.select(LineOfEffort).order_by(LineOfEffort.id))
    make.milestone(line, title='Escape <b id="injected">bold</b> & "quotes"')
    db.session.commit()
    sign_in("policy@example.gov", open=f"/recommendations/{line.recommendation_id}/timeline")
    label = page.locator("#gantt .bar-label", has_text="Escape")
    expect(label.first).to_contain_text('Escape <b id="injected">bold</b> & "quotes"')
    assert page.locator("#injected").count() == 0
    assert page.console_errors == []
